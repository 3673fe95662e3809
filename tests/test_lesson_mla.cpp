// "A compressed cache" on demo-mla: each claim against a closed form from the shapes, and the
// reference forward (tests/mla_reference.h) for the built-in model's logits.
#include <catch2/catch.hpp>

#include "core/lessons/cache_calculator.h"
#include "core/lessons/lesson_run.h"
#include "mla_reference.h"

using namespace kvscope;

namespace {
const LoadedModel& demo_mla() {
  static const LoadedModel m = load_preset("demo-mla");
  return m;
}
}  // namespace

TEST_CASE("compressed-cache lesson: latent bytes equal the closed form and a third of MHA, the rebuild counted and exact", "[lesson_checks][mla]") {
  LessonRun run(builtin_lesson("a_compressed_cache"), demo_mla());
  const ModelConfig& c = demo_mla().model->config();
  REQUIRE(c.mla());
  std::int64_t previous_rebuild = 0;
  for (int s = 0; s < run.lesson_steps(); ++s) {
    run.step();
    INFO("step " << s);
    const StepTrace& t = run.history().back();
    const LessonReport& r = run.reports().back();
    const std::int64_t closed_form = std::int64_t(c.n_layer) * (c.kv_lora_rank + c.qk_rope_dim) * t.position_end * 4;
    CHECK(t.cached.cache_bytes == closed_form);
    CHECK(r.engine.engine == closed_form);
    CHECK(r.engine.calculator == closed_form);
    const std::int64_t mha = 2LL * c.n_layer * c.n_head * c.d_head() * t.position_end * 4;
    CHECK(r.numbers["mla"]["mha_bytes"].get<std::int64_t>() == mha);
    CHECK(3 * closed_form < mha);
    // Every held position's K and V are rebuilt each step: r x (heads x nope + heads x head_dim) per row.
    const std::int64_t rebuild = std::int64_t(c.n_layer) * t.position_end * c.kv_lora_rank *
                                 (c.n_head * c.qk_nope_dim() + c.q_dim());
    CHECK(r.numbers["mla"]["rebuild_macs"].get<std::int64_t>() == rebuild);
    CHECK(rebuild > previous_rebuild);
    previous_rebuild = rebuild;
    REQUIRE(r.numbers["mla"].contains("rebuilt_vs_uncached"));
    CHECK(r.numbers["mla"]["rebuilt_vs_uncached"].get<double>() < 1e-4);
    CHECK(r.lines.front().find("\xE2\x9C\x93") != std::string::npos);
    // The built-in model against the independent double-precision forward.
    const std::vector<double> want = mla_ref::logits(c, demo_mla().model->weights(), t.context_ids);
    for (Eigen::Index i = 0; i < c.vocab_size; ++i)
      CHECK_THAT(double(t.cached.logits[i]), Catch::Matchers::WithinAbs(want[std::size_t(i)], 1e-3));
  }
  // The last step's calculator: DeepSeek-V2-Lite at 32K tokens in bf16.
  const CalculatorReport& calc = run.reports().back().calculator;
  REQUIRE(calc.set);
  CHECK(calc.shape.name == "deepseek-v2-lite");
  REQUIRE(calc.variants.back().name == "MLA");
  CHECK(calc.bytes.back() == 27LL * (512 + 64) * 32768 * 2);
  CHECK(calc.bytes.front() == 27LL * 16 * (192 + 128) * 32768 * 2);  // MHA
  CHECK(calc.variants.front().hypothetical);
  CHECK_FALSE(calc.variants.back().hypothetical);
}

TEST_CASE("cache calculator: the MLA row of the loaded model is what the engine reports", "[lesson_checks][mla]") {
  const ModelConfig& c = demo_mla().model->config();
  const CacheShape shape = loaded_cache_shape(c, "demo-mla");
  const AttentionVariant own = own_attention_variant(shape);
  CHECK(own.latent);
  for (std::int64_t t : {1, 7, 64}) CHECK(kv_cache_bytes(shape, own, t, KvDtype::FP32) == c.kv_bytes_held(t));
  CHECK(cache_formula(shape, own, 3, KvDtype::FP32) ==
        "2 layers \xC3\x97 (32 latent + 8 rotated key) \xC3\x97 3 tokens \xC3\x97 4 B (fp32) = 960 B");
  const CacheShape ds = find_cache_shape("deepseek-v2-lite", c, "demo-mla");
  CHECK(cache_product(ds, 16, 1, KvDtype::BF16) ==
        "27 layers \xC3\x97 16 KV heads \xC3\x97 (192 K + 128 V) head dims \xC3\x97 1 token \xC3\x97 2 B (bf16)");
}
