// tova:N: TOVA (Oren et al. 2024, "Transformers are Multi-State RNNs"): keep at most N positions per
// layer; when over, drop the ones the newest query attends to least, averaged over the layer's query
// heads (so every KV head of a layer keeps the same rows). Ties drop the older position. Word: "attended".
#include <algorithm>

#include "core/engine/cache/kv_policy.h"

namespace kvscope {
namespace {

class TovaRule final : public EvictionRule {
 public:
  explicit TovaRule(int budget) : budget_(budget) {}
  std::string spec() const override { return "tova:" + std::to_string(budget_); }
  bool evicts() const override { return true; }
  bool uses_newest_attention() const override { return true; }
  int max_rows() const override { return budget_; }

  KeptRows keep(const EvictionInputs& in) const override {
    std::vector<int> kept = in.held;
    if (int(kept.size()) > budget_) {
      auto score = [&in](int p) { return std::size_t(p) < in.newest_attention.size() ? in.newest_attention[std::size_t(p)] : 0.0; };
      // Most attended first; on a tie the newer position first (the older one goes).
      std::stable_sort(kept.begin(), kept.end(), [&](int a, int b) { return score(a) > score(b) || (score(a) == score(b) && a > b); });
      kept.resize(std::size_t(budget_));
      std::sort(kept.begin(), kept.end());
    }
    return KeptRows{kept, std::vector<const char*>(kept.size(), "attended")};
  }

 private:
  int budget_;
};

}  // namespace

std::shared_ptr<const EvictionRule> make_tova_rule(const PolicyItems& items) {
  return std::make_shared<TovaRule>(items.at("tova"));
}

}  // namespace kvscope
