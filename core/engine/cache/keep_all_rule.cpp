// "full": the rule that keeps every held position (kv_policy.h).
#include "core/engine/cache/kv_policy.h"

namespace kvscope {
namespace {

class KeepAllRule final : public EvictionRule {
 public:
  std::string spec() const override { return ""; }
  bool evicts() const override { return false; }
  int max_rows() const override { return 0; }
  KeptRows keep(const EvictionInputs& in) const override {
    return KeptRows{in.held, std::vector<const char*>(in.held.size(), "all")};
  }
};

}  // namespace

std::shared_ptr<const EvictionRule> keep_all_rule() {
  static const std::shared_ptr<const EvictionRule> rule = std::make_shared<KeepAllRule>();
  return rule;
}

}  // namespace kvscope
