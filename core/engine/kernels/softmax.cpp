#include "core/engine/kernels/softmax.h"

#include <algorithm>
#include <cmath>

namespace kvscope {

std::vector<double> softmax_double(const float* x, int n, double temperature) {
  std::vector<double> p(std::size_t(std::max(0, n)));
  if (n <= 0) return p;
  const double top = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += (p[std::size_t(i)] = std::exp((double(x[i]) - top) / temperature));
  for (double& v : p) v /= sum;
  return p;
}

Divergence divergence(const RowVector& logits_p, const RowVector& logits_q) {
  Divergence d;
  const std::vector<double> p = softmax_double(logits_p), q = softmax_double(logits_q);
  for (std::size_t i = 0; i < p.size() && i < q.size(); ++i) {
    if (p[i] > 0.0) d.kl += p[i] * (std::log(p[i]) - std::log(std::max(q[i], 1e-300)));
    d.max_abs_prob_diff = std::max(d.max_abs_prob_diff, float(std::abs(p[i] - q[i])));
  }
  d.kl = std::max(0.0, d.kl);  // rounding can leave -1e-17 for equal distributions
  logits_p.maxCoeff(&d.top_p);
  logits_q.maxCoeff(&d.top_q);
  return d;
}

}  // namespace kvscope
