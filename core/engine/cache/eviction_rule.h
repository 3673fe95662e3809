#pragma once
// EvictionRule: which positions a policy-managed cache keeps after a step, and why. The cache asks it
// once per layer and KV head; the answer says, per kept position, the word a view or report shows
// ("sink", "recent", "heavy", "all", or the rule's own). Adding a rule: docs/adding-a-cache-policy.md.
#include <string>
#include <vector>

namespace kvscope {

struct EvictionInputs {
  const std::vector<int>& held;  // ascending: what the cache holds for this layer and KV head, this step's rows included
  int end;                       // positions 0..end-1 exist
  int layer_window;              // the layer's own window (0: global): positions before end - window are gone anyway
  // Per position: attention this KV head received so far, summed over its query heads, rows and steps
  // (H2O's score). Accumulated only when the rule uses_attention_sums() (zeros otherwise).
  const std::vector<double>& attention_sums;
  // Per position: the newest query's attention weight, averaged over the layer's query heads (TOVA's
  // score). Given only when the rule uses_newest_attention() (empty otherwise).
  const std::vector<double>& newest_attention;
};

struct KeptRows {
  std::vector<int> positions;         // ascending
  std::vector<const char*> reasons;   // per position: a static word, why it stays
};

class EvictionRule {
 public:
  virtual ~EvictionRule() = default;
  // The rule's items in the spec ("sinks:4,window:60", "tova:6"), "" when it keeps everything.
  virtual std::string spec() const = 0;
  virtual bool evicts() const = 0;
  virtual bool uses_attention_sums() const { return false; }
  virtual bool uses_newest_attention() const { return false; }
  // Rows held per layer and KV head after a step at most (0: no bound).
  virtual int max_rows() const = 0;
  virtual KeptRows keep(const EvictionInputs& in) const = 0;
};

}  // namespace kvscope
