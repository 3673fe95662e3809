// Numerics (core/engine/forward/numerics.h): half-precision compute rounds every operation's output,
// and "same order" makes the uncached pass sum as the cached one does, so the two agree bit for bit in
// every dtype; without it, 16-bit rounding magnifies the float32 reordering by orders of magnitude.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/forward/model.h"
#include "core/engine/forward/numerics.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/session/session.h"
#include "core/formats/model_source.h"
#include "core/tokenizers/id_tokenizer.h"

using namespace kvscope;

namespace {
// Rounds x to `bits` significant bits, ties to even, by double arithmetic (not by the bit tricks of
// half_float.cpp); normal range only, which the test values keep to.
float round_significant(float x, int bits) {
  if (x == 0.0f) return x;
  int exponent = 0;
  const double mantissa = std::frexp(double(x), &exponent);  // [0.5, 1)
  const double scaled = std::ldexp(mantissa, bits);            // [2^(bits-1), 2^bits)
  const double lower = std::floor(scaled), rest = scaled - lower;
  double kept = lower;
  if (rest > 0.5 || (rest == 0.5 && std::fmod(lower, 2.0) != 0.0)) kept = lower + 1.0;
  return float(std::ldexp(kept, exponent - bits));
}

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// The largest |Δlogit| between the modes over `steps` steps of a lockstep session.
float drift(std::shared_ptr<const Model> model, const LoadedModel& loaded, const std::vector<int>& prompt, int steps) {
  SessionOptions options;
  options.record_attention = false;
  options.record_rows = false;
  DecodeSession session(std::move(model), loaded.tokenizer, options);
  session.start(prompt, {});
  float worst = 0.0f;
  for (int s = 0; s < steps; ++s) worst = std::max(worst, session.step().max_abs_logit_diff);
  return worst;
}
}  // namespace

TEST_CASE("numerics: rounding through bf16 and f16 keeps 8 and 11 significant bits, ties to even", "[numerics]") {
  std::vector<float> values = {1.0f, -3.14159265f, 1.00390625f /* tie: 1 + 2^-8 */, 1.01171875f /* tie: 1 + 3x2^-8 */,
                               0.1f, 1234.567f, -0.000123f, 65000.0f, 2.5e-3f};
  for (float v : values) {
    INFO(v);
    float b = v, h = v;
    round_through_half(&b, 1, true);
    round_through_half(&h, 1, false);
    CHECK(b == round_significant(v, 8));
    CHECK(h == round_significant(v, 11));
  }
  WeightDtype d = WeightDtype::F32;
  CHECK(parse_compute_dtype("bf16", &d));
  CHECK(d == WeightDtype::BF16);
  CHECK_FALSE(parse_compute_dtype("f8", &d));
}

TEST_CASE("numerics: in bf16 every K and V row the cache holds is a bf16 value", "[numerics]") {
  const LoadedModel loaded = load_preset("demo-llama");
  auto model = with_numerics(loaded.model, {WeightDtype::BF16, false});
  REQUIRE(model != loaded.model);  // a copy; the shared preset keeps computing in f32
  REQUIRE(loaded.model->numerics().compute == WeightDtype::F32);
  KvCache cache(model->config(), 0);
  RowVector logits;
  model->forward_cached(loaded.tokenizer->encode_prompt("Anna went to the park"), cache, 0, logits, nullptr);
  int checked = 0;
  for (int l = 0; l < cache.n_layer(); ++l)
    for (int p = 0; p < cache.next_position(); ++p)
      for (int i = 0; i < cache.row_dim(); ++i) {
        checked += 2;
        REQUIRE((bits_of(cache.key_row(l, p)[i]) & 0xffffu) == 0);
        REQUIRE((bits_of(cache.value_row(l, p)[i]) & 0xffffu) == 0);
      }
  CHECK(checked == 2 * model->config().n_layer * cache.next_position() * model->config().kv_dim());
  for (Eigen::Index i = 0; i < logits.size(); ++i) REQUIRE((bits_of(logits[i]) & 0xffffu) == 0);
}

TEST_CASE("numerics: with the same order, cached == uncached bit for bit in every dtype and family", "[numerics]") {
  for (const char* preset : {"demo", "demo-llama", "demo-mla", "gemma3-layout"}) {
    const LoadedModel loaded = load_preset(preset);
    const std::vector<int> prompt = loaded.tokenizer->encode_prompt("Anna went to the park and Ben went to the");
    for (WeightDtype dtype : {WeightDtype::F32, WeightDtype::BF16, WeightDtype::F16}) {
      INFO(preset << " " << compute_dtype_name(dtype));
      CHECK(drift(with_numerics(loaded.model, {dtype, true}), loaded, prompt, 6) == 0.0f);
    }
    // Without it the float32 passes differ (the matrix-matrix kernel sums in another order), a little.
    const float f32 = drift(loaded.model, loaded, prompt, 6);
    INFO(preset);
    CHECK(f32 > 0.0f);
    CHECK(f32 < 1e-4f);
  }
}

TEST_CASE("numerics: bf16 magnifies the reordering that float32 barely shows", "[numerics]") {
  // GPT-2's layout, seeded random weights, wide enough that some outputs sit near a bf16 rounding
  // boundary, where float32's last-bit difference picks the other side.
  ModelConfig c;
  c.family = ModelFamily::Gpt2;
  c.vocab_size = 2000, c.context_length = 32, c.d_model = 768, c.n_head = 12, c.n_layer = 3;
  auto model = std::make_shared<const Model>(c, random_weights(c, 7));
  LoadedModel loaded{"wide", model, std::make_shared<IdTokenizer>(c.vocab_size)};
  const std::vector<int> prompt = {464, 1862, 152, 1049, 318, 257, 1332, 286, 1999, 3, 70, 11};
  const float f32 = drift(model, loaded, prompt, 4);
  const float bf16 = drift(with_numerics(model, {WeightDtype::BF16, false}), loaded, prompt, 4);
  const float same = drift(with_numerics(model, {WeightDtype::BF16, true}), loaded, prompt, 4);
  INFO("f32 " << f32 << " bf16 " << bf16);
  CHECK(f32 > 0.0f);
  CHECK(bf16 > 100.0f * f32);
  CHECK(same == 0.0f);
}
