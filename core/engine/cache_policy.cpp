#include "core/engine/cache_policy.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>

#include "core/engine/error.h"

namespace kvscope {

namespace {

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// "16" -> 16; anything but a whole number from 1 up is refused with the item named.
int positive(const std::string& item, const std::string& value, const char* what) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError("'" + item + "': " + what + " must be a whole number, got '" + value + "'");
  errno = 0;
  const long v = std::strtol(value.c_str(), nullptr, 10);
  if (errno == ERANGE || v > 1000000000L)
    throw UsageError("'" + item + "': " + what + " must be a whole number, got '" + value + "'");
  if (v < 1) throw UsageError("'" + item + "': " + what + " must be at least 1, got " + value);
  return int(v);
}

}  // namespace

std::string KvPolicy::to_string() const {
  std::string s;
  auto add = [&s](const std::string& item) { s += (s.empty() ? "" : ",") + item; };
  if (sinks > 0) add("sinks:" + std::to_string(sinks));
  if (window > 0) add("window:" + std::to_string(window));
  if (heavy > 0) add("heavy:" + std::to_string(heavy));
  if (bits < 32) add("bits:" + std::to_string(bits));
  return s.empty() ? "full" : s;
}

KvPolicy parse_kv_policy(const std::string& spec) {
  const std::string all = trim(spec);
  if (all.empty()) throw UsageError("the policy is empty (give 'full' or items such as sinks:4,window:60)");
  if (all == "full") return KvPolicy{};
  KvPolicy p;
  std::vector<std::string> seen;
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
    if (name != "window" && name != "sinks" && name != "heavy" && name != "bits")
      throw UsageError("unknown item '" + item + "' (known: full, window:W, sinks:S, heavy:H, bits:4|8|16)");
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) throw UsageError("'" + name + "' is given twice");
    seen.push_back(name);
    if (colon == std::string::npos) throw UsageError("'" + item + "' needs a value, e.g. " + name + ":8");
    if (name == "window") p.window = positive(item, value, "the window");
    if (name == "sinks") p.sinks = positive(item, value, "the number of sinks");
    if (name == "heavy") p.heavy = positive(item, value, "the number of heavy hitters");
    if (name == "bits") {
      p.bits = positive(item, value, "bits");
      if (p.bits != 4 && p.bits != 8 && p.bits != 16)
        throw UsageError("'" + item + "': bits must be 4, 8 or 16, got " + value);
    }
  }
  if (p.sinks > 0 && p.window == 0) throw UsageError("sinks need a window (e.g. sinks:4,window:60): without one nothing is evicted");
  if (p.heavy > 0 && p.window == 0) throw UsageError("heavy hitters need a window (e.g. window:16,heavy:4): without one nothing is evicted");
  if (p.sinks > 0 && p.sinks >= p.window)
    throw UsageError("sinks (" + std::to_string(p.sinks) + ") must be fewer than the window (" + std::to_string(p.window) + ")");
  return p;
}

std::vector<int> choose_kept(const KvPolicy& policy, const std::vector<int>& held, int end,
                             const std::vector<double>* attention_sums) {
  if (!policy.evicts()) return held;
  std::vector<int> kept, others;
  const int newest_from = end - policy.window;
  for (int p : held) (p < policy.sinks || p >= newest_from ? kept : others).push_back(p);
  if (policy.heavy > 0 && !others.empty()) {
    assert(attention_sums && "heavy hitters are chosen by accumulated attention");
    const std::vector<double>& sums = *attention_sums;
    const std::size_t n = std::min(others.size(), std::size_t(policy.heavy));
    // Largest sum first; on a tie the older position (stable, and the order of `others`).
    std::stable_sort(others.begin(), others.end(), [&sums](int a, int b) { return sums[std::size_t(a)] > sums[std::size_t(b)]; });
    kept.insert(kept.end(), others.begin(), others.begin() + std::ptrdiff_t(n));
    std::sort(kept.begin(), kept.end());
  }
  return kept;
}

}  // namespace kvscope
