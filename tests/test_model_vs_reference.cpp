// Cached and uncached decoding both reproduce an independent forward pass at every step.
#include <catch2/catch.hpp>

#include "core/engine/session/session.h"
#include "reference_gpt.h"
#include "test_helpers.h"

using namespace kvscope;

namespace {
// Logits as doubles, for Catch's vector matcher.
std::vector<double> doubles(const RowVector& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

struct Case {
  int vocab, context, d_model, n_head, n_layer, prompt, steps, window;
};
}  // namespace

TEST_CASE("cached and uncached logits equal an independent reference at every step", "[model]") {
  const Case cases[] = {
      {23, 12, 16, 1, 1, 1, 8, 0},   {31, 16, 32, 4, 2, 3, 10, 0}, {17, 10, 24, 3, 3, 5, 6, 0},
      {29, 12, 16, 2, 2, 2, 11, 4},  // window 4, up to the last position of the context
      {19, 8, 32, 4, 2, 6, 3, 3},    // prompt longer than the window: prefill evicts at once
      {23, 12, 16, 2, 1, 1, 11, 1},  // window of one: each query sees only itself
  };
  std::uint64_t seed = 100;
  for (const Case& k : cases) {
    const ModelConfig config = test::small_config(k.vocab, k.context, k.d_model, k.n_head, k.n_layer);
    auto model = test::spiky_model(config, ++seed);
    SessionOptions options;
    options.window = k.window;
    DecodeSession session(model, std::make_shared<IdTokenizer>(k.vocab), options);
    session.start(test::random_ids(k.prompt, k.vocab, seed), test::random_ids(k.steps, k.vocab, seed + 7));
    INFO("config d=" << k.d_model << " heads=" << k.n_head << " layers=" << k.n_layer << " window=" << k.window);
    for (int s = 0; s < k.steps; ++s) {
      const StepTrace& t = session.step();
      const std::vector<double> want = reference::last_logits(config, model->weights(), t.context_ids, k.window);
      INFO("step " << s);
      // Each logit within 1e-4 relative (1e-4 absolute near zero) of the reference.
      CHECK_THAT(doubles(t.cached.logits), Catch::Matchers::Approx(want).epsilon(1e-4).margin(1e-4));
      CHECK_THAT(doubles(t.uncached.logits), Catch::Matchers::Approx(want).epsilon(1e-4).margin(1e-4));
      CHECK(t.max_abs_logit_diff < 1e-3);
    }
  }
}

TEST_CASE("the reference is sensitive to what the tests claim it checks", "[model]") {
  // Guards the guard: a wrong position offset or a missing mask changes the reference logits.
  const ModelConfig config = test::small_config(23, 12, 16, 2, 2);
  auto model = test::spiky_model(config, 5);
  const std::vector<int> ids = test::random_ids(6, 23, 9);
  const std::vector<double> full = reference::last_logits(config, model->weights(), ids, 0);
  const std::vector<double> windowed = reference::last_logits(config, model->weights(), ids, 2);
  CHECK_THAT(windowed, !Catch::Matchers::Approx(full).margin(1e-3));
  // Feeding the last token alone at position 0 (a cache whose position pointer was reset) differs.
  const std::vector<double> last_alone = reference::last_logits(config, model->weights(), {ids.back()}, 0);
  CHECK_THAT(last_alone, !Catch::Matchers::Approx(full).margin(1e-3));
}
