// Gemma-3-layout folders (gemma3_text) with random weights, 5 local layers (window 4) and 1 global:
// cached and uncached decoding reproduce an independent double-precision forward with a window mask
// on local layers (tests/gemma_reference.h) at every step, in F32 and BF16; after n positions the
// cache holds the sum over layers of min(n, window) or n rows, and its bytes are that x 2 x kv_dim x 4;
// info reports each layer's kind.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_exec.h"
#include "cli_runner.h"
#include "core/engine/kernels/error.h"
#include "core/engine/session/session.h"
#include "core/lessons/cache_calculator.h"
#include "core/lessons/lesson_run.h"
#include "core/tokenizers/id_tokenizer.h"
#include "core/formats/model_folder.h"
#include "core/formats/safetensors_writer.h"
#include "gemma_reference.h"
#include "hf_gpt2_folder.h"

using namespace kvscope;
using Catch::Matchers::WithinAbs;

namespace {

void write_gemma_folder(const std::string& dir, const gemma_ref::Model& m, const nlohmann::json& config,
                        const std::string& prefix = "") {
  std::vector<NamedTensor> tensors;
  for (const auto& [name, t] : m.tensors) tensors.push_back({prefix + name, t.shape, m.dtype, t.values.data()});
  std::filesystem::create_directories(dir);
  test::write_text(dir + "/config.json", config.dump(2));
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

void write_gemma_folder(const std::string& dir, const gemma_ref::Model& m) {
  write_gemma_folder(dir, m, gemma_ref::config_json(m.s));
}

void check_logits(const RowVector& got, const gemma_ref::Vec& want) {
  REQUIRE(std::size_t(got.size()) == want.size());
  double scale = 1.0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (std::size_t i = 0; i < want.size(); ++i) CHECK_THAT(double(got[Eigen::Index(i)]), WithinAbs(want[i], 1e-4 * scale));
}

int argmax(const gemma_ref::Vec& v) { return int(std::max_element(v.begin(), v.end()) - v.begin()); }

// Rows held after n positions, by the closed form: local layers min(n, window), global ones n.
std::int64_t closed_form_rows(const gemma_ref::Shape& s, std::int64_t n, int model_window = 0) {
  std::int64_t rows = 0;
  for (int l = 0; l < s.layers; ++l) {
    const int w = gemma_ref::layer_window(s, l, model_window);
    rows += w > 0 ? std::min<std::int64_t>(n, w) : n;
  }
  return rows;
}

}  // namespace

TEST_CASE("Gemma 3 folders: cached and uncached logits equal an independent reference at every step", "[gemma]") {
  gemma_ref::Shape plain;  // Gemma 3 as published: no softcaps, layer_types
  gemma_ref::Shape capped;  // Gemma 2's softcaps (the code path exists), the older sliding_window_pattern field
  capped.attn_softcap = 2.0;
  capped.final_softcap = 1.5;
  capped.use_layer_types = false;
  std::uint64_t seed = 70;
  for (const gemma_ref::Shape& shape : {plain, capped}) {
    for (const char* dtype : {"F32", "BF16"}) {
      gemma_ref::Model reference = gemma_ref::random_model(shape, ++seed);
      reference.dtype = dtype;
      test::TempDir dir("gemma");
      write_gemma_folder(dir.path, reference);
      const LoadedModel loaded = load_model_folder(dir.path);
      const ModelConfig& c = loaded.model->config();
      INFO(dtype << (shape.use_layer_types ? " layer_types" : " sliding_window_pattern"));
      REQUIRE(c.family == ModelFamily::Gemma3);
      CHECK(c.layer_windows == std::vector<int>{4, 4, 4, 4, 4, 0});
      CHECK(c.embed_scale == float(gemma_ref::embed_scale(reference)));  // 5.65625 in BF16, 5.656854 in F32
      DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
      session.start({3, 17, 5}, {});
      for (int s = 0; s < 9; ++s) {
        const StepTrace& t = session.step();
        INFO("step " << s);
        const gemma_ref::Vec want = gemma_ref::last_logits(reference, t.context_ids);
        check_logits(t.cached.logits, want);
        check_logits(t.uncached.logits, want);
        CHECK(t.next_id == argmax(want));
        const std::int64_t n = t.position_end;
        CHECK(session.cache().rows_held_all_layers() == closed_form_rows(shape, n));
        CHECK(t.cached.cache_bytes == closed_form_rows(shape, n) * 2 * shape.kv_heads * shape.head_dim * 4);
        CHECK(c.kv_bytes_held(n) == t.cached.cache_bytes);
        for (int l = 0; l < shape.layers; ++l) {
          const LayerRecord& r = t.cached.forward.layers[std::size_t(l)];
          INFO("layer " << l);
          CHECK(r.window == (shape.local(l) ? 4 : 0));
          CHECK(int(r.held_rows.size()) == (shape.local(l) ? std::min<int>(int(n), 4) : int(n)));
          CHECK(r.held_rows.back() == n - 1);
          if (s > 0) CHECK(r.evicted_rows == (shape.local(l) && n > 4 ? std::vector<int>{int(n) - 5} : std::vector<int>{}));
          // The newest query reads its window of keys on a local layer, every key on the global one.
          CHECK(r.visible_keys.back().size() == (shape.local(l) ? std::min<int>(int(n), 4) : int(n)));
        }
      }
    }
  }
}

TEST_CASE("Gemma 3: back() restores every layer's ring, and a model-wide window bounds the global layer too", "[gemma]") {
  gemma_ref::Shape shape;
  const gemma_ref::Model reference = gemma_ref::random_model(shape, 81);
  test::TempDir dir("gemma_back");
  write_gemma_folder(dir.path, reference);
  const LoadedModel loaded = load_model_folder(dir.path);
  DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
  session.start({1, 2, 3, 4, 5, 6}, {});  // the prompt alone fills the local windows
  std::vector<RowVector> first;
  for (int s = 0; s < 5; ++s) first.push_back(session.step().cached.logits);
  for (int s = 0; s < 3; ++s) REQUIRE(session.back());
  for (int s = 2; s < 5; ++s) CHECK((session.step().cached.logits - first[std::size_t(s)]).cwiseAbs().maxCoeff() == 0.0f);

  SessionOptions windowed;
  windowed.window = 2;  // local layers: min(4, 2) = 2; the global layer: 2
  DecodeSession narrow(loaded.model, loaded.tokenizer, windowed);
  narrow.start({1, 2, 3}, {});
  for (int s = 0; s < 6; ++s) {
    const StepTrace& t = narrow.step();
    INFO("step " << s);
    check_logits(t.cached.logits, gemma_ref::last_logits(reference, t.context_ids, 2));
    check_logits(t.uncached.logits, gemma_ref::last_logits(reference, t.context_ids, 2));
    CHECK(t.cached.cache_bytes == closed_form_rows(shape, t.position_end, 2) * 2 * shape.kv_heads * shape.head_dim * 4);
  }
}

TEST_CASE("Gemma 3: a cache policy also drops what falls out of a local layer's window", "[gemma]") {
  gemma_ref::Shape shape;
  const gemma_ref::Model reference = gemma_ref::random_model(shape, 83);
  test::TempDir dir("gemma_policy");
  write_gemma_folder(dir.path, reference);
  const LoadedModel loaded = load_model_folder(dir.path);
  SessionOptions options;
  options.kv_policy = KvPolicy{};  // "full": no eviction of its own, float32 rows
  DecodeSession session(loaded.model, loaded.tokenizer, options);
  session.start({1, 2, 3}, {});
  for (int s = 0; s < 6; ++s) {
    const StepTrace& t = session.step();
    INFO("step " << s);
    check_logits(t.cached.logits, gemma_ref::last_logits(reference, t.context_ids));
    for (int l = 0; l < shape.layers; ++l)
      CHECK(int(session.policy_cache().held(l, 0).size()) == (shape.local(l) ? std::min(t.position_end, 4) : t.position_end));
  }
}

TEST_CASE("Gemma 3: the multimodal config's text_config and language_model. names load the text model", "[gemma]") {
  gemma_ref::Shape shape;
  const gemma_ref::Model reference = gemma_ref::random_model(shape, 85);
  nlohmann::json text = gemma_ref::config_json(shape);
  text.erase("model_type");
  const nlohmann::json outer = {{"architectures", {"Gemma3ForConditionalGeneration"}}, {"model_type", "gemma3"},
                                {"text_config", text}, {"vision_config", {{"hidden_size", 16}}}};
  test::TempDir dir("gemma_mm");
  write_gemma_folder(dir.path, reference, outer, "language_model.");
  const LoadedModel loaded = load_model_folder(dir.path);
  DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
  session.start({4, 5}, {});
  const StepTrace& t = session.step();
  check_logits(t.cached.logits, gemma_ref::last_logits(reference, t.context_ids));
}

TEST_CASE("kvscope-cli info on a Gemma 3 folder reports each layer's kind and window; generate's bytes follow", "[gemma][cli]") {
  gemma_ref::Shape shape;
  gemma_ref::Model reference = gemma_ref::random_model(shape, 87);
  reference.dtype = "BF16";
  test::TempDir dir("gemma_info");
  write_gemma_folder(dir.path, reference);
  const test::CliResult info = test::run_cli("info --model " + dir.path + " --json");
  REQUIRE(info.status == 0);
  const nlohmann::json j = nlohmann::json::parse(info.out);
  CHECK(j["family"] == "gemma3");
  CHECK(j["attention"] == "gqa");
  REQUIRE(j["layers"].size() == 6);
  for (int l = 0; l < 6; ++l) {
    CHECK(j["layers"][std::size_t(l)]["attention"] == (shape.local(l) ? "local" : "global"));
    CHECK(j["layers"][std::size_t(l)]["window"] == (shape.local(l) ? 4 : 0));
  }
  std::int64_t parameters = 0;
  for (const auto& [name, t] : reference.tensors) parameters += std::int64_t(t.values.size());
  CHECK(j["parameters"] == parameters);
  const test::CliResult gen = test::run_cli("generate --model " + dir.path + " --ids 1,2,3 --max-new-tokens 6 --json");
  REQUIRE(gen.status == 0);
  std::vector<int> ids = {1, 2, 3};
  for (const nlohmann::json& step : nlohmann::json::parse(gen.out)["steps"]) {
    const std::int64_t n = step["positions"][1].get<std::int64_t>();
    CHECK(step["cached"]["cache_bytes"].get<std::int64_t>() == closed_form_rows(shape, n) * 2 * 2 * 8 * 4);
    CHECK(step["next_id"].get<int>() == argmax(gemma_ref::last_logits(reference, ids)));
    ids.push_back(step["next_id"].get<int>());
  }
  const test::CliResult text = test::run_cli("info --model " + dir.path);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("5 local") && Catch::Contains("1 global") && Catch::Contains("LLLLLG"));
}

TEST_CASE("cache calculator: sliding-window rows equal the engine's bytes (a Gemma folder, Gemma 3 270M's layout)", "[gemma][lesson_checks]") {
  gemma_ref::Shape shape;
  const gemma_ref::Model reference = gemma_ref::random_model(shape, 89);
  test::TempDir dir("gemma_calc");
  write_gemma_folder(dir.path, reference);
  const LoadedModel loaded = load_model_folder(dir.path);
  const CacheShape loaded_shape = loaded_cache_shape(loaded.model->config(), "gemma");
  const std::vector<AttentionVariant> variants = attention_variants(loaded_shape);
  REQUIRE(variants.size() == 4);
  CHECK((variants[3].name == "GQA+SWA" && variants[3].sliding && !variants[3].hypothetical && variants[3].n_kv_head == 2));
  CHECK((variants[1].name == "GQA" && variants[1].hypothetical));  // all global: what it would need without windows
  DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
  session.start({1, 2}, {});
  for (int s = 0; s < 7; ++s) {
    const StepTrace& t = session.step();
    CHECK(kv_cache_bytes(loaded_shape, variants[3], t.position_end, KvDtype::FP32) == t.cached.cache_bytes);
    CHECK(kv_cache_bytes(loaded_shape, variants[1], t.position_end, KvDtype::FP32) ==
          loaded.model->config().kv_bytes_per_position() * t.position_end);
  }
  CHECK(cache_formula(loaded_shape, variants[3], 8, KvDtype::FP32) ==
        "2 \xC3\x97 (1 global layer \xC3\x97 8 tokens + 5 local layers \xC3\x97 4 tokens) \xC3\x97 2 KV heads \xC3\x97 8 head dim "
        "\xC3\x97 4 B (fp32) = 3.58 kB");

  // Gemma 3 270M's attention layout (18 layers, every 6th global, window 512, 1 KV head of 256) with
  // narrow widths and a tiny vocabulary (the cache does not depend on them), prefilled with 530 tokens.
  const CacheShape g270 = find_cache_shape("gemma-3-270m", loaded.model->config(), "gemma");
  CHECK(g270.parameters == 268098176LL);  // the published count: 170M embedding + 100M transformer
  CHECK((g270.n_layer == 18 && g270.n_local_layer() == 15 && g270.n_kv_head == 1 && g270.d_head == 256));
  ModelConfig layout = gemma3_config("gemma-3-270m");
  layout.vocab_size = 8;
  layout.d_model = layout.ff_dim = 8;
  layout.embed_scale = std::sqrt(8.0f);
  auto model = std::make_shared<Model>(layout, random_weights(layout, 5));
  SessionOptions options;
  options.run_uncached = options.record_attention = options.record_rows = false;
  DecodeSession big(model, std::make_shared<IdTokenizer>(8), options);
  big.start(std::vector<int>(530, 3), {});
  const StepTrace& t = big.step();
  const AttentionVariant swa = attention_variants(g270).back();
  CHECK(swa.name == "MQA+SWA");
  CHECK(t.cached.cache_bytes == 2LL * (3 * 530 + 15 * 512) * 1 * 256 * 4);
  CHECK(kv_cache_bytes(g270, swa, 530, KvDtype::FP32) == t.cached.cache_bytes);
  // 1B and 4B against the engine's own closed form for their configs (ModelConfig::kv_bytes_held).
  for (const char* name : {"gemma-3-270m", "gemma-3-1b", "gemma-3-4b"}) {
    const CacheShape s = find_cache_shape(name, loaded.model->config(), "gemma");
    const ModelConfig c = gemma3_config(name);
    for (std::int64_t n : std::vector<std::int64_t>{1, 511, 512, 513, 4096, s.context})
      CHECK(kv_cache_bytes(s, attention_variants(s).back(), n, KvDtype::FP32) == c.kv_bytes_held(n));
  }
  const CacheShape g1b = find_cache_shape("gemma-3-1b", loaded.model->config(), "gemma");
  CHECK(g1b.parameters == 999885952LL);  // Gemma 3 1B's published count
  CHECK(kv_cache_bytes(g1b, attention_variants(g1b).back(), 32768, KvDtype::BF16) == 2LL * (4 * 32768 + 22 * 512) * 256 * 2);
}

TEST_CASE("Gemma 3: a byte-fallback tokenizer.json with an added token past the vocabulary (the image token) loads", "[gemma]") {
  gemma_ref::Shape shape;
  shape.vocab = 268;  // the toy tokenizer's model vocabulary: 4 specials, 256 bytes, 8 pieces
  shape.layers = 2;
  shape.pattern = 2;  // local, global
  const gemma_ref::Model reference = gemma_ref::random_model(shape, 91);
  test::TempDir dir("gemma_tok");
  write_gemma_folder(dir.path, reference);
  nlohmann::json tokenizer = nlohmann::json::parse(test::slurp(std::string(KVSCOPE_SOURCE_DIR) + "/tests/data/gemma3_like_tokenizer.json"));
  tokenizer["added_tokens"].push_back({{"id", 268}, {"content", "<image_soft_token>"}, {"special", true}});
  test::write_text(dir / "tokenizer.json", tokenizer.dump());
  const LoadedModel loaded = load_model_folder(dir.path);
  CHECK(loaded.tokenizer->vocab_size() == 269);
  const std::vector<int> prompt = loaded.tokenizer->encode_prompt("ab ab");
  REQUIRE(prompt.size() == 3);
  CHECK(prompt[0] == 2);  // <bos>, as the post-processor says
  DecodeSession session(loaded.model, loaded.tokenizer, SessionOptions());
  session.start(prompt, {});
  check_logits(session.step().cached.logits, gemma_ref::last_logits(reference, prompt));
  CHECK_THROWS_AS(session.start(loaded.tokenizer->encode("<image_soft_token>"), {}), DataError);  // id 268: no row
}

TEST_CASE("cache-size lesson on a Gemma folder: the calculator's own row (local windows) equals the engine at every step", "[gemma][lesson_checks]") {
  gemma_ref::Shape shape;  // 5 local layers with window 4, 1 global
  const gemma_ref::Model reference = gemma_ref::random_model(shape, 23);
  test::TempDir dir("gemma_lesson");
  write_gemma_folder(dir.path, reference);
  const LoadedModel loaded = load_model_folder(dir.path);
  const Lesson lesson = parse_lesson(R"({"title": "Local and global", "summary": "s", "kind": "cache_size", "prompt": "1 2 3",
      "steps": [{"note": "a", "calculator": {"shape": "loaded"}}, {"note": "b", "calculator": {"shape": "loaded"}},
                {"note": "c", "calculator": {"shape": "loaded"}}, {"note": "d", "calculator": {"shape": "loaded"}}]})",
                                     "local_global.json");
  LessonRun run(lesson, loaded);
  for (int s = 0; s < run.lesson_steps(); ++s) {
    run.step();
    INFO("step " << s);
    const StepTrace& t = run.history().back();
    const CalculatorReport& c = run.reports().back().calculator;
    REQUIRE(c.set);
    CHECK(c.tokens == t.position_end);  // the global layer's positions, not a local layer's window
    REQUIRE(c.variants.back().sliding);
    CHECK(c.bytes.back() == t.cached.cache_bytes);
  }
  CHECK(run.history().back().position_end > 4);  // past the local window: local layers stopped growing
}
