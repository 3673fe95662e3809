// Llama-family folders (Llama 3, Qwen3, Qwen2/MQA layouts) with random weights: cached and uncached
// decoding reproduce an independent double-precision forward (tests/llama_reference.h) at every step,
// in F32, F16 and BF16; the cache has the shape GQA gives it; malformed configs are refused by name.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/engine/session.h"
#include "core/formats/model_folder.h"
#include "core/formats/safetensors_writer.h"
#include "hf_gpt2_folder.h"
#include "llama_reference.h"
#include "test_helpers.h"

using namespace kvscope;
using Catch::Matchers::WithinAbs;

namespace {

void write_llama_folder(const std::string& dir, const llama_ref::Model& m, const std::string& dtype,
                        const nlohmann::json& config) {
  std::filesystem::create_directories(dir);
  test::write_text(dir + "/config.json", config.dump(2));
  std::vector<NamedTensor> tensors;
  for (const auto& [name, t] : m.tensors) tensors.push_back({name, t.shape, dtype, t.values.data()});
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

void write_llama_folder(const std::string& dir, const llama_ref::Model& m, const std::string& dtype) {
  write_llama_folder(dir, m, dtype, llama_ref::config_json(m.s));
}

// Every logit within 1e-4 of the reference, relative to the largest reference logit (at least 1).
void check_logits(const RowVector& got, const llama_ref::Vec& want) {
  REQUIRE(std::size_t(got.size()) == want.size());
  double scale = 1.0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (std::size_t i = 0; i < want.size(); ++i) CHECK_THAT(double(got[Eigen::Index(i)]), WithinAbs(want[i], 1e-4 * scale));
}

struct Family {
  const char* name;
  llama_ref::Shape shape;
};

std::vector<Family> families() {
  llama_ref::Shape llama3;  // GQA 4:2, llama3 rope scaling, untied head, large theta
  llama3.theta = 500000.0;
  llama3.llama3_scaling = true;
  llama3.tied = false;
  llama_ref::Shape qwen3;  // q/k norms, head_dim 12 != hidden / heads = 8, tied head
  qwen3.model_type = "qwen3";
  qwen3.head_dim = 12;
  qwen3.theta = 1000000.0;
  llama_ref::Shape mqa;  // qwen2 layout: q/k/v biases, one K/V head for all four query heads
  mqa.model_type = "qwen2";
  mqa.kv_heads = 1;
  llama_ref::Shape smollm2;  // llama with attention_bias (o_proj bias too), MHA
  smollm2.kv_heads = 4;
  smollm2.attention_bias = true;
  return {{"llama3", llama3}, {"qwen3", qwen3}, {"qwen2-mqa", mqa}, {"smollm2-mha", smollm2}};
}

}  // namespace

TEST_CASE("Llama-family folders: cached and uncached logits equal an independent reference at every step", "[llama]") {
  std::uint64_t seed = 40;
  for (const Family& f : families()) {
    const llama_ref::Model reference = llama_ref::random_model(f.shape, ++seed);
    for (const char* dtype : {"F32", "F16", "BF16"}) {
      test::TempDir dir("llama");
      write_llama_folder(dir.path, reference, dtype);
      const LoadedModel loaded = load_model_folder(dir.path);
      const ModelConfig& c = loaded.model->config();
      INFO(f.name << " " << dtype);
      CHECK(c.rotary());
      CHECK(c.kv_heads() == f.shape.kv_heads);
      CHECK(c.d_head() == f.shape.head_dim);
      DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
      session.start({3, 17, 5}, {});  // greedy: the tokens are the model's own
      for (int s = 0; s < 8; ++s) {
        const StepTrace& t = session.step();
        INFO("step " << s);
        const llama_ref::Vec want = llama_ref::last_logits(reference, t.context_ids);
        check_logits(t.cached.logits, want);
        check_logits(t.uncached.logits, want);
        int best = 0;
        for (std::size_t i = 1; i < want.size(); ++i)
          if (want[i] > want[std::size_t(best)]) best = int(i);
        CHECK(t.next_id == best);
        // The cache is [layers, KV heads, t, d_head]: 2 x layers x kv_heads x d_head x t x 4 bytes.
        CHECK(t.cached.cache_bytes ==
              2LL * f.shape.layers * f.shape.kv_heads * f.shape.head_dim * t.position_end * 4);
        const LayerRecord& l = t.cached.forward.layers[1];
        CHECK(l.keys.cols() == f.shape.kv_heads * f.shape.head_dim);
        CHECK(l.keys_unrotated.rows() == l.keys.rows());
      }
    }
  }
}

TEST_CASE("GQA: the trace names the K/V head each query head reads; keys are cached after rotation", "[llama]") {
  llama_ref::Shape shape;  // 4 query heads, 2 K/V heads
  const llama_ref::Model reference = llama_ref::random_model(shape, 7);
  test::TempDir dir("gqa");
  write_llama_folder(dir.path, reference, "F32");
  const LoadedModel loaded = load_model_folder(dir.path);
  DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
  session.start({1, 2, 3, 4}, {});
  const StepTrace& t = session.step();
  CHECK(t.cached.forward.kv_head_of_query == std::vector<int>{0, 0, 1, 1});
  // Position 0 is not rotated (angle 0); later positions are, and keep their length per pair.
  const LayerRecord& l = t.cached.forward.layers[0];
  CHECK((l.keys.row(0) - l.keys_unrotated.row(0)).cwiseAbs().maxCoeff() == 0.0f);
  CHECK((l.keys.row(3) - l.keys_unrotated.row(3)).cwiseAbs().maxCoeff() > 1e-3f);
  CHECK_THAT(double(l.keys.row(3).norm()), WithinAbs(double(l.keys_unrotated.row(3).norm()), 1e-4));
}

TEST_CASE("rotary positions with a window decode past max_position_embeddings; without one they stop", "[llama]") {
  llama_ref::Shape shape;
  shape.context = 8;
  const llama_ref::Model reference = llama_ref::random_model(shape, 9);
  test::TempDir dir("rope_window");
  write_llama_folder(dir.path, reference, "F32");
  const LoadedModel loaded = load_model_folder(dir.path);
  SessionOptions windowed;
  windowed.window = 4;
  DecodeSession session(loaded.model, loaded.tokenizer, windowed);
  session.start({1, 2}, {});
  for (int s = 0; s < 12; ++s) {
    const StepTrace& t = session.step();
    INFO("step " << s << " newest position " << t.newest_position());
    check_logits(t.cached.logits, llama_ref::last_logits(reference, t.context_ids, 4));
    if (s > 0 && t.newest_position() >= 4) CHECK(t.cached.forward.layers[0].evicted_rows == std::vector<int>{t.newest_position() - 4});
  }
  CHECK(session.cache().next_position() == 13);  // past the 8 positions of the config
  DecodeSession full(loaded.model, loaded.tokenizer, SessionOptions());
  full.start({1, 2}, {});
  CHECK_THROWS_WITH(full.check_steps(8), Catch::Contains("context length is 8"));
}

TEST_CASE("kvscope-cli generate on a Llama folder matches the reference in both modes", "[llama][cli]") {
  llama_ref::Shape shape;
  shape.llama3_scaling = true;
  shape.tied = false;
  const llama_ref::Model reference = llama_ref::random_model(shape, 11);
  test::TempDir dir("llama_cli");
  write_llama_folder(dir.path, reference, "BF16");
  for (const char* mode : {"cached", "uncached"}) {
    const test::CliResult r = test::run_cli("generate --model " + dir.path + " --ids 3,17,5 --max-new-tokens 5 --mode " +
                                            mode + " --json --logits");
    REQUIRE(r.status == 0);
    const nlohmann::json doc = nlohmann::json::parse(r.out);
    std::vector<int> ids = {3, 17, 5};
    for (const nlohmann::json& step : doc["steps"]) {
      const nlohmann::json& logits = step["logits"];
      const llama_ref::Vec want = llama_ref::last_logits(reference, ids);
      RowVector got(Eigen::Index(logits.size()));
      for (std::size_t i = 0; i < logits.size(); ++i) got[Eigen::Index(i)] = logits[i].get<float>();
      check_logits(got, want);
      ids.push_back(step["next_id"].get<int>());
    }
  }
}

TEST_CASE("malformed Llama-family configs: one line naming config.json and the problem, status 1", "[llama][cli]") {
  llama_ref::Shape shape;
  const llama_ref::Model reference = llama_ref::random_model(shape, 13);
  struct Damage {
    const char* what;
    std::function<void(nlohmann::json&)> edit;
    const char* message;
  };
  const std::vector<Damage> damages = {
      {"KV heads not dividing heads", [](nlohmann::json& j) { j["num_key_value_heads"] = 3; }, "must divide the query heads"},
      {"zero KV heads", [](nlohmann::json& j) { j["num_key_value_heads"] = 0; }, "num_key_value_heads"},
      {"unknown rope_type", [](nlohmann::json& j) { j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}}; },
       "rope_scaling type \"yarn\" is not supported"},
      {"rope_theta negative", [](nlohmann::json& j) { j["rope_theta"] = -1.0; }, "\"rope_theta\" must be a positive number"},
      {"rope_theta a string", [](nlohmann::json& j) { j["rope_theta"] = "big"; }, "\"rope_theta\" must be a positive number"},
      {"unsupported model_type", [](nlohmann::json& j) { j["model_type"] = "bert"; }, "model_type \"bert\" is not supported"},
      {"head_dim disagreeing with q_proj", [](nlohmann::json& j) { j["head_dim"] = 6; }, "self_attn.q_proj.weight' has shape"},
      {"a qwen3 folder without q_norm", [](nlohmann::json& j) { j["model_type"] = "qwen3"; },
       "missing tensor 'model.layers.0.self_attn.q_norm.weight'"},
      {"an untied head that is missing", [](nlohmann::json& j) { j["tie_word_embeddings"] = false; }, "missing tensor 'lm_head.weight'"},
  };
  for (const Damage& d : damages) {
    INFO(d.what);
    test::TempDir dir("llama_damaged");
    nlohmann::json config = llama_ref::config_json(shape);
    d.edit(config);
    write_llama_folder(dir.path, reference, "F32", config);
    const test::CliResult r = test::run_cli("generate --model " + dir.path + " --ids 1,2 --max-new-tokens 1");
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains(dir.path) && Catch::Contains(d.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
