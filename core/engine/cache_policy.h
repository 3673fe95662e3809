#pragma once
// KvPolicy: what a policy-managed cache keeps and how it stores it, from a spec such as
// "sinks:4,window:60", "window:16,heavy:4", "bits:8" or "full".
//   window:W  keep the newest W positions (W >= 1)
//   sinks:S   also keep the first S positions (StreamingLLM's attention sinks; S < W, needs a window)
//   heavy:H   also keep, per layer and KV head, the H other positions that received the most
//             attention so far (H2O's heavy hitters; needs a window)
//   bits:B    store K and V in B = 4, 8 or 16 bits (4 and 8: KIVI, keys per channel, values per token)
// The cache evicts after a step, so between steps it holds at most S + W + H rows per layer and KV
// head; the next query reads them and its own row. Kept keys keep the rotation of their original
// positions (they were cached rotated); StreamingLLM instead re-numbers positions within the cache.
#include <string>
#include <vector>

namespace kvscope {

struct KvPolicy {
  int window = 0;  // 0: nothing is evicted
  int sinks = 0;
  int heavy = 0;
  int bits = 32;   // 32: float32 rows, as the plain cache

  bool evicts() const { return window > 0; }
  bool quantizes() const { return bits < 32; }
  bool full() const { return !evicts() && !quantizes(); }
  // The canonical spec: items in the order sinks, window, heavy, bits; "full" for none.
  std::string to_string() const;
};

// Throws UsageError with a one-line message (no option name: the front end adds it) for an empty
// spec or item, an unknown item, a value that is not a whole number, W/S/H < 1, bits other than
// 4/8/16, sinks >= window, sinks or heavy without a window, an item given twice, "full" with others.
KvPolicy parse_kv_policy(const std::string& spec);

// The positions to keep after a step, from `held` (ascending, every position the cache holds for one
// layer and KV head, the step's new ones included) when positions 0..end-1 exist: the first S, the
// newest W, and the H others with the largest `attention_sums[p]` (accumulated attention; ties go to
// the older position). attention_sums may be null when policy.heavy == 0. Returns ascending positions.
std::vector<int> choose_kept(const KvPolicy& policy, const std::vector<int>& held, int end,
                             const std::vector<double>* attention_sums);

}  // namespace kvscope
