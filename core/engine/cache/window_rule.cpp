// sinks:S,window:W,heavy:H: StreamingLLM's attention sinks and newest window, with H2O's heavy hitters
// (kv_policy.h). Words: "sink", "recent", "heavy".
#include <algorithm>
#include <numeric>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/error.h"
#include "core/engine/model/key_span.h"

namespace kvscope {
namespace {

class WindowRule final : public EvictionRule {
 public:
  WindowRule(int sinks, int window, int heavy) : sinks_(sinks), window_(window), heavy_(heavy) {}

  std::string spec() const override {
    std::string s = sinks_ > 0 ? "sinks:" + std::to_string(sinks_) + "," : "";
    s += "window:" + std::to_string(window_);
    if (heavy_ > 0) s += ",heavy:" + std::to_string(heavy_);
    return s;
  }
  bool evicts() const override { return true; }
  bool uses_attention_sums() const override { return heavy_ > 0; }
  int max_rows() const override { return sinks_ + window_ + heavy_; }

  // The first S, the newest W, and the H others with the largest accumulated attention (a tie goes to
  // the older position).
  KeptRows keep(const EvictionInputs& in) const override {
    const KeySpan recent = visible_span(in.end - 1, window_);
    std::vector<std::pair<int, const char*>> kept;
    std::vector<int> others;
    for (int p : in.held) {
      if (p < sinks_)
        kept.push_back({p, "sink"});
      else if (recent.contains(p))
        kept.push_back({p, "recent"});
      else
        others.push_back(p);
    }
    if (heavy_ > 0 && !others.empty()) {
      const std::vector<double>& sums = in.attention_sums;
      auto sum = [&sums](int p) { return std::size_t(p) < sums.size() ? sums[std::size_t(p)] : 0.0; };
      std::stable_sort(others.begin(), others.end(), [&](int a, int b) { return sum(a) > sum(b); });
      const std::size_t n = std::min(others.size(), std::size_t(heavy_));
      for (std::size_t i = 0; i < n; ++i) kept.push_back({others[i], "heavy"});
      std::sort(kept.begin(), kept.end());
    }
    KeptRows out;
    for (const auto& [p, why] : kept) {
      out.positions.push_back(p);
      out.reasons.push_back(why);
    }
    return out;
  }

 private:
  int sinks_, window_, heavy_;
};

int item_or_zero(const PolicyItems& items, const char* name) {
  const auto it = items.find(name);
  return it == items.end() ? 0 : it->second;
}

}  // namespace

std::shared_ptr<const EvictionRule> make_window_rule(const PolicyItems& items) {
  const int sinks = item_or_zero(items, "sinks"), window = item_or_zero(items, "window"), heavy = item_or_zero(items, "heavy");
  if (sinks > 0 && window == 0) throw UsageError("sinks need a window (e.g. sinks:4,window:60): without one nothing is evicted");
  if (heavy > 0 && window == 0) throw UsageError("heavy hitters need a window (e.g. window:16,heavy:4): without one nothing is evicted");
  if (sinks >= window)
    throw UsageError("sinks (" + std::to_string(sinks) + ") must be fewer than the window (" + std::to_string(window) + ")");
  return std::make_shared<WindowRule>(sinks, window, heavy);
}

}  // namespace kvscope
