#pragma once
// The trainer's gradient check, shared by every family: each parameter's hand-written gradient against
// central finite differences of the loss, computed in double (h = 1e-5 leaves truncation and rounding
// errors near 1e-9), tensor by tensor.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/engine/kernels/random.h"
#include "core/engine/model/weights.h"
#include "core/train/train.h"

namespace test {

// Random weights large enough that attention is far from uniform, and norm gains away from one: the
// query and key-side projections (whichever the family has: K, or MLA's latent, rotated-key and K-up
// matrices) get a wide spread. A matrix the family does not use is empty and stays so.
inline kvscope::ModelWeights busy_weights(const kvscope::ModelConfig& c, std::uint64_t seed) {
  kvscope::ModelWeights w = kvscope::random_weights(c, seed);
  kvscope::SplitMix64 rng(seed + 5);
  auto fill = [&rng](auto& t, float base, float spread) {
    for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = base + spread * rng.normal();
  };
  for (kvscope::LayerWeights& l : w.layers) {
    for (auto* m : {&l.attn_q, &l.attn_k, &l.attn_kv_down, &l.attn_k_rope, &l.attn_k_up}) fill(*m, 0.0f, 0.4f);
    fill(l.ln_1_gamma, 1.0f, 0.3f);
    fill(l.ln_2_gamma, 1.0f, 0.3f);
  }
  fill(w.ln_f_gamma, 1.0f, 0.3f);
  return w;
}

inline void check_gradients_by_finite_differences(const kvscope::ParameterLayout& layout, std::vector<double> params,
                                                  const std::vector<kvscope::TrainExample>& examples) {
  std::vector<double> grads, scratch;
  kvscope::loss_and_gradient(layout, params, examples, grads);
  const double h = 1e-5;
  for (const kvscope::TensorSlot& slot : layout.tensors) {
    double worst = 0.0, largest = 0.0;
    for (std::int64_t i = slot.offset; i < slot.offset + slot.size(); ++i) {
      const double saved = params[i];
      params[i] = saved + h;
      const double up = kvscope::loss_and_gradient(layout, params, examples, scratch);
      params[i] = saved - h;
      const double down = kvscope::loss_and_gradient(layout, params, examples, scratch);
      params[i] = saved;
      const double numeric = (up - down) / (2 * h);
      // Relative to the entry, with a floor for entries whose gradient is zero (GPT-2's K bias is one:
      // softmax ignores a constant added to every score of a row).
      worst = std::max(worst, std::abs(numeric - grads[i]) / std::max(1e-3, std::abs(numeric)));
      largest = std::max(largest, std::abs(grads[i]));
    }
    INFO("tensor " << slot.name << ": worst relative error " << worst << ", largest |grad| " << largest);
    CHECK(worst < 1e-5);
    CHECK(largest > 1e-4);  // a pass that forgot the tensor would pass the first check with zeros
  }
}

}  // namespace test
