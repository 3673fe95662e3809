#pragma once
// StepTrace: everything one decoding step computed, in both modes. Immutable once made; the GUI
// and the CLI draw and print only these fields.
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/cache/row_quantizer.h"
#include "core/engine/forward/forward_record.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {

struct TokenProbability {
  int id = 0;
  std::string text;
  float probability = 0.0f;
};

// What a cache policy (core/engine/cache/kv_policy.h) did at a step, against a full float32 cache run in
// lockstep on the same tokens (no recomputation). Position lists are ascending.
struct PolicyTrace {
  bool active = false;
  std::string spec;      // canonical: "sinks:2,window:6", "tova:6", "bits:8", "full"
  bool evicts = false;   // the rule drops rows (a window, heavy hitters, TOVA); false: it keeps all
  int max_rows = 0;      // the rule's bound on rows per layer and KV head between steps (0: none)
  // kept/evicted/reasons are [layer][KV head] when per_head (the kept sets differ by layer or KV
  // head), else [1][1]: the same for every layer and KV head. kept = held after the step (ascending);
  // evicted = by this step; reasons = per kept position, why it stays: "sink", "recent", "heavy",
  // "all", or the rule's own word ("attended" for TOVA). Views and reports read these words, never
  // a rule's parameters.
  bool per_head = false;
  std::vector<std::vector<std::vector<int>>> kept, evicted;
  std::vector<std::vector<std::vector<const char*>>> reasons;
  // Kept keys carry the rotation of their original positions (they were cached rotated) and the query
  // its true position; StreamingLLM re-numbers positions within the cache instead.
  bool original_positions = true;
  std::int64_t cache_bytes = 0;       // what the policy cache holds, scales included
  std::int64_t full_cache_bytes = 0;  // the float32 cache beside it
  double kl_from_full = 0.0;          // KL(p_full || p_policy) of the next-token distributions, nats
  float max_abs_prob_diff = 0.0f;     // max |p_full - p_policy|
  bool top1_agrees = true;
  // How both modes computed (core/engine/forward/numerics.h): "f32", "bf16", "bf16, same order"...;
  // rounded: every output was rounded to 16 bits, so the modes may differ by more than float32's last bits.
  std::string numerics = "f32";
  bool rounded = false;
  int full_top1 = -1, policy_top1 = -1;
  float max_abs_k_error = 0.0f;       // largest |K read - K written| of the rows read (quantized caches)
  float max_abs_v_error = 0.0f;
  // Quantized caches: how the oldest and the newest held position are stored, per layer and KV head
  // (codes, pairs, rows as written and as read back), for the window's quantized-rows view.
  struct StoredSample {
    int layer = 0, kv_head = 0, position = 0;
    StoredRow row;
  };
  std::vector<StoredSample> stored;

  const std::vector<int>& kept_at(int layer, int kv_head) const { return per_head ? kept[layer][kv_head] : kept[0][0]; }
  const std::vector<int>& evicted_at(int layer, int kv_head) const {
    return per_head ? evicted[layer][kv_head] : evicted[0][0];
  }
  const std::vector<const char*>& reasons_at(int layer, int kv_head) const {
    return per_head ? reasons[layer][kv_head] : reasons[0][0];
  }
  // Why `position` is kept in this layer and KV head; "" when it is not.
  const char* reason_of(int layer, int kv_head, int position) const;
  // The kept positions of this layer and KV head grouped by reason, in the order each word first appears.
  std::vector<std::pair<std::string, std::vector<int>>> kept_by_reason(int layer, int kv_head) const;
};

// One mode's side of a step ("cached" or "uncached").
struct ModeTrace {
  bool ran = false;
  ForwardRecord forward;            // per layer rows, attention, MACs; query_begin/key_end
  double seconds = 0.0;             // wall time of the forward call
  std::int64_t cache_bytes = 0;     // K/V bytes held after the step (0 without a cache)
  std::int64_t cache_bytes_allocated = 0;
  // Running totals over steps 0..this one.
  std::int64_t total_rows_computed = 0;  // K/V row projections, one per position per layer
  std::int64_t total_macs = 0;
  RowVector logits;                 // [vocab] of the newest position
  // Positions written this step and taken back before the next (speculative decoding: the rows of
  // guesses the target rejected), ascending; the cache no longer holds them.
  std::vector<int> rolled_back;
  PolicyTrace policy;               // the cached side under a cache policy (--kv-policy)

  std::int64_t macs() const { return forward.total_macs(); }
  // K/V rows projected this step, summed over layers.
  std::int64_t rows_computed() const;
};

struct StepTrace {
  int step = 0;
  bool prefill = false;       // step 0 feeds the whole prompt at once; later steps feed one token
  int position_begin = 0;     // positions fed this step: [position_begin, position_end)
  int position_end = 0;
  int window = 0;             // sliding window (0 = none)
  std::vector<int> context_ids;            // ids at positions 0..position_end-1
  std::vector<std::string> context_texts;  // their texts, for labels
  std::vector<int> input_ids;              // ids fed this step
  int next_id = 0;
  std::string next_text;
  bool forced = false;                     // next_id came from the teacher-forced continuation
  std::vector<TokenProbability> top;       // the model's own five most likely next tokens
  ModeTrace cached;
  ModeTrace uncached;
  float max_abs_logit_diff = 0.0f;         // between the two modes; meaningful only when both ran
  // Whether the two modes' most likely next tokens are the same (when both ran): greedy decoding
  // parts at the first step where they are not.
  bool top1_agrees = true;
  // How both modes computed (core/engine/forward/numerics.h): "f32", "bf16", "bf16, same order"...;
  // rounded: every output was rounded to 16 bits, so the modes may differ by more than float32's last bits.
  std::string numerics = "f32";
  bool rounded = false;
  // True when the large tensors were dropped to bound memory (DecodeSession keeps them for its newest
  // steps only): the uncached mode's attention, K/V/Q rows, latent rows and logits, and the cached
  // mode's attention, queries and logits; MLA's rebuilt K/V rows in both. Everything else, the cached K/V rows included, stays. recompute_step() brings
  // them back with identical numbers.
  bool tensors_dropped = false;

  int newest_position() const { return position_end - 1; }
  // Whether the query at position `query` could see key position `key` in a layer, as recorded by
  // whichever mode computed that query row (the uncached mode computes them all). False if neither did.
  bool key_visible(int layer, int query, int key) const;
  // The K/V head a query head read (GQA: groups of query heads share one), as recorded.
  int kv_head_of(int query_head) const;
  // The query heads that read a K/V head, in order.
  std::vector<int> query_heads_of(int kv_head) const;
  bool both_ran() const { return cached.ran && uncached.ran; }
};

// Drops what tensors_dropped describes (the O(t^2) and O(vocab) parts of a step). Idempotent.
void drop_large_tensors(StepTrace& t);
// Bytes drop_large_tensors would free.
std::int64_t large_tensor_bytes(const StepTrace& t);
// Moves the large tensors of `full` (a recomputation of the same step) into `slim`; the scalars
// recorded when the step first ran (times, totals) are kept.
void restore_large_tensors(StepTrace& slim, StepTrace&& full);

}  // namespace kvscope
