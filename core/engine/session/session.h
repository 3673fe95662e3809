#pragma once
// DecodeSession: decodes one token per step with and without a KV cache, in lockstep on the same
// tokens, and keeps the trace of every step. Step 0 prefills the prompt; step s > 0 feeds the token
// chosen at step s - 1. back() returns to the exact earlier state (cache rows a window overwrote
// included); step() after back() reproduces the same trace. Under a cache policy the cached mode runs
// on a PolicyKvCache and a full cache beside it; back() rebuilds the policy cache by replaying the
// steps before (its evictions and quantized groups are not undone row by row).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/cache/policy_cache.h"
#include "core/engine/session/sampling.h"
#include "core/engine/session/tokenizer.h"
#include "core/engine/session/trace.h"

namespace kvscope {

struct SessionOptions {
  int window = 0;  // sliding window of W positions (0 = none): bounds the cache, not the context length
  bool run_cached = true;
  bool run_uncached = true;
  bool record_attention = true;  // attention weights per head (large for long uncached runs)
  bool record_rows = true;       // K/V/Q values of the rows computed
  // The newest N steps keep their large tensors (attention, recomputed rows, logits); older steps drop
  // them and recompute_step() rebuilds them on demand, so memory stays bounded at any length. 0 = keep all.
  int full_steps_kept = 8;
  // ...and, past the newest step, only while their large tensors total at most this many bytes (an
  // uncached step's attention alone is 4 x layers x heads x t^2 bytes: 600 MB for GPT-2 small at 1024).
  std::int64_t full_bytes_kept = std::int64_t(192) << 20;
  SamplingOptions sampling;
  // A cache policy for the cached mode (core/engine/cache/kv_policy.h; unset: the plain cache). The cached
  // mode then reads a PolicyKvCache, and cache() is the full float32 cache run beside it in lockstep.
  std::optional<KvPolicy> kv_policy;
};

class DecodeSession {
 public:
  DecodeSession(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
                SessionOptions options);

  // Sets the prompt and the teacher-forced continuation (may be empty) and resets. Throws
  // DataError for an empty prompt, an id outside the vocabulary or a prompt past the context.
  void start(std::vector<int> prompt_ids, std::vector<int> forced_ids);

  // Why n_steps more steps cannot run ("" when they can): no prompt, or past the context length.
  std::string why_not_steps(int n_steps) const;
  // Throws DataError with why_not_steps(n_steps), before any work.
  void check_steps(int n_steps) const;
  // Whether one more step fits; otherwise why not.
  bool can_step(std::string* why_not = nullptr) const;

  const StepTrace& step();
  bool back();    // false at the start
  void reset();   // before step 0: empty cache, position 0

  // Every step so far. Only the newest options().full_steps_kept keep their large tensors (see
  // StepTrace::tensors_dropped); history().back() always has them.
  const std::vector<StepTrace>& history() const { return history_; }
  // history()[step] with its large tensors restored (recomputed if they were dropped).
  const StepTrace& full_step(int step);
  // Step `step` run again from the cache state before it: the same numbers as when it first ran
  // (times aside). The session does not change.
  StepTrace recompute_step(int step) const;
  int steps_done() const { return int(history_.size()); }
  // Prompt, then every token chosen so far (the last one not yet fed).
  std::vector<int> tokens() const;
  const std::vector<int>& prompt() const { return prompt_; }
  const std::vector<int>& forced() const { return forced_; }
  const KvCache& cache() const { return cache_; }
  const PolicyKvCache& policy_cache() const { return policy_cache_; }
  bool has_policy() const { return options_.kv_policy.has_value(); }
  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const SessionOptions& options() const { return options_; }

 private:
  struct Undo {  // cache rows a windowed step overwrote, to put back on back()
    std::vector<std::vector<int>> positions;  // per layer (rings differ by layer: local and global)
    std::vector<Matrix> keys, values;         // per layer [positions, kv_dim]
    void restore(KvCache& cache) const;
  };
  int next_feed_end() const;
  std::vector<int> feed_for_next_step() const;
  int choose_next(const RowVector& logits, int step, bool* forced) const;
  Undo save_overwritten(int first_new, int n_new) const;
  void drop_old_tensors();
  // Runs step t's forward passes (t's positions, ids and feed already set) on `cache`.
  void run_forwards(StepTrace& t, KvCache& cache, PolicyKvCache& policy_cache, ForwardScratch* scratch,
                    const StepTrace* previous) const;
  // The policy cache as it was after steps 0..steps-1, rebuilt by running them again.
  PolicyKvCache replay_policy(int steps) const;
  bool policy_unbounded() const;  // a rotary model whose cache a window bounds: no context limit

  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  SessionOptions options_;
  std::vector<int> prompt_, forced_;
  KvCache cache_;
  PolicyKvCache policy_cache_;  // with options_.kv_policy
  ForwardScratch scratch_;  // reused by every cached step
  std::vector<StepTrace> history_;
  std::vector<Undo> undo_;
};

}  // namespace kvscope
