#pragma once
// One cached step under a cache policy, after Model::forward_cached ran on the PolicyKvCache: the same
// tokens on a full float32 cache beside it (lockstep, no recomputation), the divergence of the two
// next-token distributions, the error of the rows read, then the policy's eviction. The session runs
// this as its cached path's one extra stage; replays use end_policy_step alone.
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/kernels/softmax.h"
#include "core/engine/forward/model.h"
#include "core/engine/cache/policy_cache.h"
#include "core/engine/session/trace.h"

namespace kvscope {

// Gives the rule what it reads from the step's record (accumulated attention, the newest query's
// attention; record may be null for a rule that reads neither), then evicts.
Eviction end_policy_step(PolicyKvCache& cache, const ForwardRecord* record);

// cached: the policy run's side of the step (forward and logits already filled). Runs `tokens` on
// `full`, fills cached.policy and cached.cache_bytes, and updates the record's held and evicted rows.
void finish_policy_step(const Model& model, const std::vector<int>& tokens, int window, PolicyKvCache& cache,
                        KvCache& full, ModeTrace& cached, ForwardScratch* scratch);

}  // namespace kvscope
