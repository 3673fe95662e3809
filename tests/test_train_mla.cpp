// The trainer's multi-head latent attention: every parameter's hand-written gradient (the latent's
// down- and up-projections, the shared rotated key, the rotated part of Q) against central finite
// differences in double, and the training forward against core Model's logits.
#include <catch2/catch.hpp>

#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"
#include "core/train/train.h"
#include "gradient_check.h"
#include "test_helpers.h"

using namespace kvscope;

namespace {

ModelConfig mla_train_config(int vocab, int context, int d_model, int n_head, int head_dim, int rank, int rope) {
  ModelConfig c;
  c.family = ModelFamily::Llama;
  c.vocab_size = vocab, c.context_length = context, c.d_model = d_model, c.n_head = n_head, c.head_dim = head_dim;
  c.n_layer = 2, c.ff_dim = 3 * d_model / 2 + 2;
  c.kv_lora_rank = rank, c.qk_rope_dim = rope;
  c.qkv_bias = c.out_bias = c.mlp_bias = false;
  c.layer_norm_eps = 1e-6f;
  c.rope_theta = 100.0f;
  return c;
}

}  // namespace

TEST_CASE("MLA trainer: the hand-written gradient of every parameter equals central finite differences", "[train][mla]") {
  const ModelConfig config = mla_train_config(11, 8, 8, 2, 6, 3, 4);  // 2 heads of 6 = 2 rebuilt + 4 rotary
  const ParameterLayout layout = make_layout(config);
  CHECK(layout.layers[0].attn_kv_down != kNoSlot);
  CHECK(layout.layers[0].attn_k == kNoSlot);
  const std::vector<float> start = flatten(test::busy_weights(config, 3), layout);
  std::vector<double> params(start.begin(), start.end());
  const std::vector<TrainExample> examples = make_examples({{1, 4, 4, 7, 0, 10, 3, 2, 5}, {2, 9, 5, 1}, {6, 8}},
                                                           config.context_length);
  test::check_gradients_by_finite_differences(layout, params, examples);
}

TEST_CASE("MLA trainer: the training forward gives core Model's logits at every position", "[train][mla]") {
  const ModelConfig config = mla_train_config(19, 12, 16, 4, 8, 6, 2);
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
  CHECK(unflatten(params, layout).layers[1].attn_v_up == weights.layers[1].attn_v_up);
}
