// The presets of real models' shapes (examples/models/smollm2-135m, qwen3-0.6b): their configs against
// the published numbers (Hugging Face's config.json of each model, as issue 31 lists them), the cache's
// bytes per position in closed form, and a forward pass of smollm2-135m with and without the cache.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/forward/model.h"
#include "core/formats/embedded_models.h"
#include "core/formats/hf_config.h"
#include "core/formats/model_source.h"
#include "test_helpers.h"

using namespace kvscope;

namespace {
ModelConfig embedded_config(const std::vector<EmbeddedFile>& files) {
  return parse_hf_config(find_embedded(files, "config.json")->text(), "test");
}
}  // namespace

TEST_CASE("smollm2-135m and qwen3-0.6b have the real models' shapes", "[presets]") {
  const ModelConfig s = embedded_config(embedded_smollm2_135m_model());
  CHECK(s.d_model == 576);
  CHECK(s.n_layer == 30);
  CHECK(s.n_head == 9);
  CHECK(s.kv_heads() == 3);
  CHECK(s.d_head() == 64);
  CHECK(s.d_ff() == 1536);
  CHECK(s.vocab_size == 49152);
  CHECK(s.tied_head);
  CHECK(s.rope_theta == 100000.0f);
  CHECK(s.context_length == 8192);
  CHECK_FALSE(s.qk_norm);
  CHECK(s.kv_bytes_per_position() == 2LL * 30 * 3 * 64 * 4);  // K and V, layers x KV heads x head_dim, float32

  const ModelConfig q = embedded_config(embedded_qwen3_0_6b_model());
  CHECK(q.d_model == 1024);
  CHECK(q.n_layer == 28);
  CHECK(q.n_head == 16);
  CHECK(q.kv_heads() == 8);
  CHECK(q.d_head() == 128);  // not hidden / heads = 64
  CHECK(q.d_ff() == 3072);
  CHECK(q.vocab_size == 151936);
  CHECK(q.qk_norm);
  CHECK(q.tied_head);
  CHECK(q.rope_theta == 1000000.0f);
  CHECK(q.context_length == 40960);
  CHECK(q.kv_bytes_per_position() == 2LL * 28 * 8 * 128 * 4);

  bool listed_apart = true;
  for (const PresetInfo& p : builtin_presets())
    if (p.name == "smollm2-135m" || p.name == "qwen3-0.6b") listed_apart = listed_apart && p.large;
  CHECK(listed_apart);
}

TEST_CASE("smollm2-135m: token ids in, the same logits with and without the cache", "[presets][slow]") {
  if (test::kSanitizedBuild) {  // the same Llama-family paths run sanitized on small models (test_llama_family.cpp)
    WARN("not run in sanitizer builds: making 135M random weights takes most of a minute there");
    return;
  }
  const LoadedModel loaded = load_preset("smollm2-135m");
  CHECK(loaded.name == "smollm2-135m");
  const Model& model = *loaded.model;
  KvCache cache(model.config(), 0);
  RowVector cached, uncached;
  std::vector<int> tokens = {1, 2, 49151};
  model.forward_cached(tokens, cache, 0, cached, nullptr);
  for (int step = 0; step < 2; ++step) {
    model.forward_uncached(tokens, 0, uncached, nullptr);
    REQUIRE(cached.size() == 49152);
    CHECK((cached - uncached).cwiseAbs().maxCoeff() < 1e-4f * std::max(1.0f, uncached.cwiseAbs().maxCoeff()));
    tokens.push_back(7 + step);
    model.forward_cached({7 + step}, cache, 0, cached, nullptr);
  }
}
