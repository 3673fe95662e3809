#pragma once
// One cached step under a cache policy, after Model::forward_cached ran on the PolicyKvCache: the same
// tokens on a full float32 cache beside it (lockstep, no recomputation), the divergence of the two
// next-token distributions, the error of the rows read, then the policy's eviction. The session runs
// this as its cached path's one extra stage; replays use end_policy_step alone.
#include <vector>

#include "core/engine/kv_cache.h"
#include "core/engine/model.h"
#include "core/engine/policy_cache.h"
#include "core/engine/trace.h"

namespace kvscope {

// Adds the step's attention to the heavy-hitter sums (record may be null without heavy hitters), then
// evicts. Returns the evicted positions per layer and KV head.
std::vector<std::vector<std::vector<int>>> end_policy_step(PolicyKvCache& cache, const ForwardRecord* record);

// cached: the policy run's side of the step (forward and logits already filled). Runs `tokens` on
// `full`, fills cached.policy and cached.cache_bytes, and updates the record's held and evicted rows.
void finish_policy_step(const Model& model, const std::vector<int>& tokens, int window, PolicyKvCache& cache,
                        KvCache& full, ModeTrace& cached, ForwardScratch* scratch);

// KL(p || q) in nats of the softmaxes of two logit rows (double precision), max |p - q| and both argmaxes.
struct Divergence {
  double kl = 0.0;
  float max_abs_prob_diff = 0.0f;
  int top_p = -1, top_q = -1;
};
Divergence divergence(const RowVector& logits_p, const RowVector& logits_q);

}  // namespace kvscope
