#pragma once
// KvPolicy: what a policy-managed cache keeps (an EvictionRule) and how it stores rows (a RowQuantizer),
// from a spec such as "sinks:4,window:60", "window:16,heavy:4", "tova:6", "bits:8" or "full":
//   window:W  keep the newest W positions (W >= 1)
//   sinks:S   also keep the first S positions (StreamingLLM's attention sinks; S < W, needs a window)
//   heavy:H   also keep, per layer and KV head, the H other positions that received the most
//             attention so far (H2O's heavy hitters; needs a window)
//   tova:N    keep at most N positions per layer: when over, drop the ones the newest query attends to
//             least, averaged over the layer's query heads (TOVA)
//   bits:B    store K and V in B = 4, 8 or 16 bits (4 and 8: KIVI, keys per channel, values per token)
// One eviction rule per policy, plus a quantizer. The cache evicts after a step, so between steps it
// holds at most the rule's max_rows() per layer and KV head; the next query reads them and its own
// row. Kept keys keep the rotation of their original positions (they were cached rotated);
// StreamingLLM instead re-numbers positions within the cache. The registry of rules and the spec's
// grammar: kv_policy.cpp; adding a rule: docs/adding-a-cache-policy.md.
#include <map>
#include <memory>
#include <string>

#include "core/engine/cache/eviction_rule.h"
#include "core/engine/cache/row_quantizer.h"

namespace kvscope {

std::shared_ptr<const EvictionRule> keep_all_rule();  // "full": nothing is evicted (keep_all_rule.cpp)

struct KvPolicy {
  std::shared_ptr<const EvictionRule> rule = keep_all_rule();
  std::shared_ptr<const RowQuantizer> quantizer = float32_quantizer();

  bool evicts() const { return rule->evicts(); }
  bool quantizes() const { return quantizer->lossy(); }
  bool full() const { return !evicts() && !quantizes(); }
  // The canonical spec: the rule's items, then bits; "full" for none.
  std::string to_string() const;
};

// A spec's items by name, each a whole number >= 1, for a rule's factory.
using PolicyItems = std::map<std::string, int>;

// Throws UsageError with a one-line message (no option name: the front end adds it) for an empty
// spec or item, an unknown item, a value that is not a whole number, a value < 1, bits other than
// 4/8/16, an item given twice, items of two rules, "full" with others, or what the rule refuses.
KvPolicy parse_kv_policy(const std::string& spec);
// The same for the value of a front end's --kv-policy option: the refusal names the option.
KvPolicy parse_kv_policy_option(const std::string& spec);

// The items a spec may hold, e.g. "full, sinks:S, window:W, heavy:H, tova:N, bits:4|8|16".
std::string kv_policy_items();

}  // namespace kvscope
