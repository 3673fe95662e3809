#include "core/engine/session/draft_verdict.h"

#include <algorithm>
#include <cassert>

namespace kvscope {

int draw_index(const std::vector<double>& weights, double u) {
  double total = 0.0;
  for (double w : weights) total += w;
  const double target = u * total;
  double running = 0.0;
  int last_positive = -1;
  for (int i = 0; i < int(weights.size()); ++i) {
    if (weights[std::size_t(i)] <= 0.0) continue;
    last_positive = i;
    running += weights[std::size_t(i)];
    if (running > target) return i;
  }
  return last_positive;  // u x total at the very top, by rounding
}

DraftVerdict judge_draft(const std::vector<double>& p, const std::vector<double>& q, int drafted, double u_accept,
                         double u_resample) {
  assert(p.size() == q.size() && drafted >= 0 && drafted < int(p.size()));
  const double px = p[std::size_t(drafted)], qx = q[std::size_t(drafted)];
  // q(x) > 0: the draft drew x. Accept when u < p/q (always when p >= q).
  if (qx > 0.0 && u_accept * qx < px) return {true, drafted};
  std::vector<double> residual(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) residual[i] = std::max(0.0, p[i] - q[i]);
  int token = draw_index(residual, u_resample);
  if (token < 0) token = draw_index(p, u_resample);  // p == q everywhere: rejection has probability 0
  return {false, token};
}

}  // namespace kvscope
