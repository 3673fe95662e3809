// Llama-family folders (Llama 3, Qwen3, Qwen2/MQA layouts) with random weights: cached and uncached
// decoding reproduce an independent double-precision forward (tests/llama_reference.h) at every step,
// in F32, F16 and BF16; the cache has the shape GQA gives it; malformed configs are refused by name.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <sys/mman.h>
#include <nlohmann/json.hpp>

#include "cli_exec.h"
#include "cli_runner.h"
#include "core/engine/session/session.h"
#include "core/formats/model_folder.h"
#include "core/formats/safetensors_writer.h"
#include "hf_gpt2_folder.h"
#include "llama_reference.h"
#include "test_helpers.h"

using namespace kvscope;
using Catch::Matchers::WithinAbs;

namespace {

void write_llama_folder_tensors(const std::string& dir, const std::vector<NamedTensor>& tensors,
                                const nlohmann::json& config) {
  std::filesystem::create_directories(dir);
  test::write_text(dir + "/config.json", config.dump(2));
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

void write_llama_folder(const std::string& dir, const llama_ref::Model& m, const std::string& dtype,
                        const nlohmann::json& config) {
  std::vector<NamedTensor> tensors;
  for (const auto& [name, t] : m.tensors) tensors.push_back({name, t.shape, dtype, t.values.data()});
  write_llama_folder_tensors(dir, tensors, config);
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

TEST_CASE("kvscope-cli info reports the cache bytes per token that generate then holds", "[llama][cli]") {
  llama_ref::Shape shape;  // 2 layers x 2 K/V heads x head_dim 8: 2 x 2 x 2 x 8 x 4 = 256 B per token
  shape.model_type = "qwen3";
  const llama_ref::Model reference = llama_ref::random_model(shape, 17);
  test::TempDir dir("llama_info");
  write_llama_folder(dir.path, reference, "BF16");
  const test::CliResult info = test::run_cli("info --model " + dir.path + " --json");
  REQUIRE(info.status == 0);
  const nlohmann::json j = nlohmann::json::parse(info.out);
  CHECK(j["family"] == "llama");
  CHECK(j["attention"] == "gqa");
  CHECK(j["n_head"] == 4);
  CHECK(j["n_kv_head"] == 2);
  CHECK(j["head_dim"] == 8);
  CHECK(j["positions"] == "rope");
  CHECK(j["context_length"] == shape.context);
  CHECK(j["cache_bytes_per_token"] == 2 * shape.layers * shape.kv_heads * shape.head_dim * 4);
  std::int64_t parameters = 0;  // tied head: the embedding counts once
  for (const auto& [name, t] : reference.tensors) parameters += std::int64_t(t.values.size());
  CHECK(j["parameters"] == parameters);
  REQUIRE(j["layers"].size() == 2);
  const test::CliResult gen = test::run_cli("generate --model " + dir.path + " --ids 1,2,3 --max-new-tokens 3 --json");
  REQUIRE(gen.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(gen.out);
  for (const nlohmann::json& step : doc["steps"])
    CHECK(step["cached"]["cache_bytes"].get<std::int64_t>() ==
          j["cache_bytes_per_token"].get<std::int64_t>() * step["positions"][1].get<std::int64_t>());
  const test::CliResult gpt2 = test::run_cli("info --preset gpt2-small --json");
  REQUIRE(gpt2.status == 0);
  const nlohmann::json g = nlohmann::json::parse(gpt2.out);
  CHECK(g["attention"] == "mha");
  CHECK(g["positions"] == "learned");
  CHECK(g["parameters"] == 124439808LL);  // GPT-2 124M
  CHECK(g["cache_bytes_per_token"] == 2 * 12 * 768 * 4);
}

TEST_CASE("a Qwen3-0.6B-size BF16 folder stays 16-bit: peak memory about half its float32 weights", "[llama][cli][slow]") {
  if (test::kSanitizedBuild) {
    WARN("not run in sanitizer builds: a 2.4 GB load there takes minutes and its memory is inflated");
    return;
  }
  const int V = 151936, d = 1024, f = 3072, L = 28, H = 16, KV = 8, hd = 128;
  // Every tensor points into one read-only anonymous mapping of zeros (the kernel's zero page), so
  // writing the 1.2 GB file does not make this process, and so the spawned CLI's inherited peak, large.
  const std::size_t largest = std::size_t(V) * d * sizeof(float);
  void* zeros = ::mmap(nullptr, largest, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(zeros != MAP_FAILED);
  const float* z = static_cast<const float*>(zeros);
  std::vector<NamedTensor> tensors = {{"model.embed_tokens.weight", {V, d}, "BF16", z}, {"model.norm.weight", {d}, "BF16", z}};
  for (int l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* norm : {"input_layernorm.weight", "post_attention_layernorm.weight"}) tensors.push_back({p + norm, {d}, "BF16", z});
    tensors.push_back({p + "self_attn.q_proj.weight", {H * hd, d}, "BF16", z});
    tensors.push_back({p + "self_attn.k_proj.weight", {KV * hd, d}, "BF16", z});
    tensors.push_back({p + "self_attn.v_proj.weight", {KV * hd, d}, "BF16", z});
    tensors.push_back({p + "self_attn.o_proj.weight", {d, H * hd}, "BF16", z});
    tensors.push_back({p + "self_attn.q_norm.weight", {hd}, "BF16", z});
    tensors.push_back({p + "self_attn.k_norm.weight", {hd}, "BF16", z});
    tensors.push_back({p + "mlp.gate_proj.weight", {f, d}, "BF16", z});
    tensors.push_back({p + "mlp.up_proj.weight", {f, d}, "BF16", z});
    tensors.push_back({p + "mlp.down_proj.weight", {d, f}, "BF16", z});
  }
  test::TempDir dir("qwen3_size");
  llama_ref::Shape shape;
  shape.model_type = "qwen3", shape.vocab = V, shape.hidden = d, shape.ff = f, shape.layers = L, shape.heads = H,
  shape.kv_heads = KV, shape.head_dim = hd, shape.context = 40960, shape.theta = 1000000.0;
  write_llama_folder_tensors(dir.path, tensors, llama_ref::config_json(shape));
  ::munmap(zeros, largest);
  std::int64_t float32_bytes = 0;
  for (const NamedTensor& t : tensors) {
    std::int64_t n = 4;
    for (std::int64_t s : t.shape) n *= s;
    float32_bytes += n;
  }
  CHECK(float32_bytes == 596049920LL * 4);  // Qwen3-0.6B: 596M parameters with its tied head
  const test::ExecResult r = test::exec_cli({"generate", "--model", dir.path, "--ids", "1,2", "--max-new-tokens", "2",
                                             "--mode", "cached", "--json"});
  REQUIRE(r.status == 0);
  const double ratio = double(r.peak_rss_kib) * 1024.0 / double(float32_bytes);
  INFO("peak RSS " << r.peak_rss_kib << " KiB = " << ratio << " x the float32 weights");
  CHECK(ratio > 0.45);  // the weights really were loaded (as 16-bit: half the float32 bytes)
  CHECK(ratio < 0.65);
}
