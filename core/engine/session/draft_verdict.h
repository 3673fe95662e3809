#pragma once
// The rule that judges one drafted token in speculative sampling (Leviathan et al. 2023, Chen et al.
// 2023): the draft proposed token x from its distribution q; the target's distribution there is p.
// Accept x with probability min(1, p(x) / q(x)); otherwise draw the replacement from max(0, p - q)
// normalized. Whatever q is, the token that comes out is distributed exactly as p.
#include <vector>

namespace kvscope {

struct DraftVerdict {
  bool accepted = false;
  int token = -1;  // x when accepted, else the replacement drawn from max(0, p - q)
};

// u_accept and u_resample: independent uniform numbers in [0, 1) (the caller's generator, so runs
// repeat). p and q have the same length and each sums to 1.
DraftVerdict judge_draft(const std::vector<double>& p, const std::vector<double>& q, int drafted, double u_accept,
                         double u_resample);

// The index i where the running sum of weights first exceeds u x their total (the last positive one
// at worst): a draw from weights by inverse transform.
int draw_index(const std::vector<double>& weights, double u);

}  // namespace kvscope
