#pragma once
// The one softmax in double precision the engine, its checks and its sampler read probabilities
// through (attention itself runs in float inside the model), and the divergence of two distributions.
#include <vector>

#include "core/engine/kernels/tensor.h"

namespace kvscope {

// softmax(x / temperature) of n values, max-subtracted, in double.
std::vector<double> softmax_double(const float* x, int n, double temperature = 1.0);
inline std::vector<double> softmax_double(const RowVector& logits) { return softmax_double(logits.data(), int(logits.size())); }

// KL(p || q) in nats of the softmaxes of two logit rows (double precision), max |p - q| and both argmaxes.
struct Divergence {
  double kl = 0.0;
  float max_abs_prob_diff = 0.0f;
  int top_p = -1, top_q = -1;
};
Divergence divergence(const RowVector& logits_p, const RowVector& logits_q);

}  // namespace kvscope
