// The spec grammar and the registry of eviction rules and quantizers (kv_policy.h).
#include "core/engine/cache/kv_policy.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

#include "core/engine/kernels/error.h"

namespace kvscope {

// Each rule's factory, defined in its own file: it reads its items and refuses what it cannot do.
std::shared_ptr<const EvictionRule> make_window_rule(const PolicyItems& items);
std::shared_ptr<const EvictionRule> make_tova_rule(const PolicyItems& items);

namespace {

struct RuleItem {
  std::string name;   // "window"
  std::string usage;  // "window:W"
  std::string what;   // "the window": names the value in errors
};

struct RuleEntry {
  std::vector<RuleItem> items;  // the spec items this rule owns
  std::shared_ptr<const EvictionRule> (*make)(const PolicyItems&);
};

// The registry: one row per eviction rule.
const std::vector<RuleEntry>& rules() {
  static const std::vector<RuleEntry> table = {
      {{{"sinks", "sinks:S", "the number of sinks"}, {"window", "window:W", "the window"},
        {"heavy", "heavy:H", "the number of heavy hitters"}},
       make_window_rule},
      {{{"tova", "tova:N", "the budget"}}, make_tova_rule},
  };
  return table;
}

// The registry of quantizers, by the value of the "bits" item (32, float32, is the default).
struct QuantizerEntry {
  int bits;
  std::shared_ptr<const RowQuantizer> (*make)();
};
const std::vector<QuantizerEntry>& quantizers() {
  static const std::vector<QuantizerEntry> table = {
      {16, half_quantizer}, {8, [] { return kivi_quantizer(8); }}, {4, [] { return kivi_quantizer(4); }}};
  return table;
}
const char* const kBitsUsage = "bits:4|8|16";

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// "16" -> 16; anything but a whole number from 1 up is refused with the item named.
int positive(const std::string& item, const std::string& value, const std::string& what) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError("'" + item + "': " + what + " must be a whole number, got '" + value + "'");
  errno = 0;
  const long v = std::strtol(value.c_str(), nullptr, 10);
  if (errno == ERANGE || v > 1000000000L)
    throw UsageError("'" + item + "': " + what + " must be a whole number, got '" + value + "'");
  if (v < 1) throw UsageError("'" + item + "': " + what + " must be at least 1, got " + value);
  return int(v);
}

const RuleItem* find_item(const std::string& name, const RuleEntry** owner) {
  for (const RuleEntry& r : rules())
    for (const RuleItem& i : r.items)
      if (i.name == name) {
        *owner = &r;
        return &i;
      }
  return nullptr;
}

}  // namespace

std::string kv_policy_items() {
  std::string s = "full";
  for (const RuleEntry& r : rules())
    for (const RuleItem& i : r.items) s += ", " + i.usage;
  return s + ", " + kBitsUsage;
}

std::string KvPolicy::to_string() const {
  std::string s = rule->spec();
  const std::string q = quantizer->spec();
  if (!q.empty()) s += (s.empty() ? "" : ",") + q;
  return s.empty() ? "full" : s;
}

KvPolicy parse_kv_policy(const std::string& spec) {
  const std::string all = trim(spec);
  if (all.empty()) throw UsageError("the policy is empty (give 'full' or items such as sinks:4,window:60)");
  if (all == "full") return KvPolicy{};
  PolicyItems items;
  const RuleEntry* rule = nullptr;
  std::size_t start = 0;
  while (start <= all.size()) {
    const std::size_t comma = all.find(',', start);
    const std::string item = trim(all.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? all.size() + 1 : comma + 1;
    if (item.empty()) throw UsageError("empty item in '" + all + "' (items are separated by single commas)");
    if (item == "full") throw UsageError("'full' stands alone: it means no eviction and float32 rows");
    const std::size_t colon = item.find(':');
    const std::string name = trim(item.substr(0, colon));
    const std::string value = colon == std::string::npos ? "" : trim(item.substr(colon + 1));
    const RuleEntry* owner = nullptr;
    const RuleItem* known = find_item(name, &owner);
    if (!known && name != "bits") throw UsageError("unknown item '" + item + "' (known: " + kv_policy_items() + ")");
    if (items.count(name)) throw UsageError("'" + name + "' is given twice");
    if (colon == std::string::npos) throw UsageError("'" + item + "' needs a value, e.g. " + name + ":8");
    items[name] = positive(item, value, known ? known->what : "bits");
    if (owner && rule && owner != rule)
      throw UsageError("'" + name + "' belongs to another eviction rule than '" + rule->items.front().name +
                       "...': a policy has one eviction rule (plus bits)");
    if (owner) rule = owner;
  }
  KvPolicy p;
  if (items.count("bits")) {
    const int bits = items["bits"];
    const auto q = std::find_if(quantizers().begin(), quantizers().end(), [bits](const QuantizerEntry& e) { return e.bits == bits; });
    if (q == quantizers().end())
      throw UsageError("'bits:" + std::to_string(bits) + "': bits must be 4, 8 or 16, got " + std::to_string(bits));
    p.quantizer = q->make();
    items.erase("bits");
  }
  if (rule) p.rule = rule->make(items);
  return p;
}

KvPolicy parse_kv_policy_option(const std::string& spec) {
  try {
    return parse_kv_policy(spec);
  } catch (const UsageError& e) {
    throw UsageError(std::string("--kv-policy: ") + e.what());
  }
}

}  // namespace kvscope
