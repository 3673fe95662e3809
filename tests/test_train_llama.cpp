// The trainer's Llama family (RMSNorm, rotary positions, grouped-query attention, SwiGLU): every
// parameter's hand-written gradient against central finite differences in double, the training
// forward against core Model's logits, and that it learns a small corpus.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/engine/kernels/error.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"
#include "core/train/train.h"
#include "gradient_check.h"
#include "test_helpers.h"

using namespace kvscope;

namespace {

ModelConfig llama_config(int vocab, int context, int d_model, int n_head, int n_kv_head, int n_layer) {
  ModelConfig c;
  c.family = ModelFamily::Llama;
  c.vocab_size = vocab, c.context_length = context, c.d_model = d_model, c.n_head = n_head;
  c.n_kv_head = n_kv_head, c.n_layer = n_layer, c.ff_dim = 3 * d_model / 2 + 2;
  c.qkv_bias = c.out_bias = c.mlp_bias = false;
  c.layer_norm_eps = 1e-6f;
  c.rope_theta = 100.0f;  // fast rotation: a short sequence already turns the pairs a lot
  return c;
}

}  // namespace

TEST_CASE("Llama trainer: the hand-written gradient of every parameter equals central finite differences", "[train][llama]") {
  const ModelConfig config = llama_config(11, 8, 8, 4, 2, 2);  // GQA: 4 query heads share 2 K/V heads
  const ParameterLayout layout = make_layout(config);
  CHECK(layout.wpe == kNoSlot);
  const std::vector<float> start = flatten(test::busy_weights(config, 3), layout);
  std::vector<double> params(start.begin(), start.end());
  const std::vector<TrainExample> examples = make_examples({{1, 4, 4, 7, 0, 10, 3, 2, 5}, {2, 9, 5, 1}, {6, 8}},
                                                           config.context_length);
  test::check_gradients_by_finite_differences(layout, params, examples);
}

TEST_CASE("Llama trainer: the training forward gives core Model's logits at every position", "[train][llama]") {
  const ModelConfig config = llama_config(19, 12, 16, 4, 1, 2);  // MQA
  const ModelWeights weights = test::busy_weights(config, 17);
  const Model model(config, weights);
  const ParameterLayout layout = make_layout(config);
  const std::vector<float> params = flatten(weights, layout);
  const std::vector<int> ids = test::random_ids(12, config.vocab_size, 5);
  SequenceActivations<float> acts;
  forward_sequence(layout, params.data(), ids, std::vector<int>(ids.size(), -1), acts);
  for (size_t t = 0; t < ids.size(); ++t) {
    RowVector want;
    model.forward_uncached(std::vector<int>(ids.begin(), ids.begin() + t + 1), 0, want, nullptr);
    INFO("position " << t);
    for (Eigen::Index i = 0; i < want.size(); ++i)
      CHECK_THAT(double(acts.logits(Eigen::Index(t), i)), Catch::Matchers::WithinAbs(double(want[i]), 1e-4));
  }
  CHECK(unflatten(params, layout).layers[1].mlp_gate == weights.layers[1].mlp_gate);
}

TEST_CASE("Llama trainer: refuses what its backward pass does not cover", "[train][llama]") {
  ModelConfig c = llama_config(11, 8, 8, 4, 2, 1);
  c.qk_norm = true;
  CHECK_THROWS_AS(make_layout(c), UsageError);
  c = llama_config(11, 8, 8, 4, 2, 1);
  c.tied_head = false;
  CHECK_THROWS_AS(make_layout(c), UsageError);
}

TEST_CASE("Llama trainer: learns a small corpus", "[train][llama]") {
  // 0 1 2 3 is "time flies fast ."; 0 4 5 3 "time goes slow ."; the first is three times as common.
  const std::vector<std::vector<int>> sequences = {{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}, {0, 4, 5, 3}, {6, 1, 2, 3}};
  const ModelConfig config = llama_config(7, 8, 16, 4, 2, 2);
  TrainOptions options;
  options.steps = 200;
  options.batch_size = 5;
  options.learning_rate = 1e-2f;
  Trainer trainer(config, sequences, options);
  const double before = trainer.mean_loss();
  for (int s = 0; s < options.steps; ++s) trainer.step();
  const double after = trainer.mean_loss();
  CHECK(after < 0.5 * before);
  const Model model(config, trainer.weights());
  RowVector logits;
  model.forward_uncached({0}, 0, logits, nullptr);
  Eigen::Index best = 0;
  logits.maxCoeff(&best);
  CHECK(best == 1);  // "time" -> "flies"
}
