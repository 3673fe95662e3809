#include "tests/gui/figure_ledger.h"

#include <cmath>
#include <map>

namespace kvscope::test {

namespace {

using nlohmann::json;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string dump_short(const json& j) {
  std::string s = j.dump();
  return s.size() > 160 ? s.substr(0, 160) + "..." : s;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> numbers_in(const std::string& t) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t i = 0;
  while (i < t.size()) {
    if (!is_digit(t[i])) {
      ++i;
      continue;
    }
    const bool glued = i > 0 && (is_letter(t[i - 1]) || t[i - 1] == '_' ||
                                 (t[i - 1] == '-' && i > 1 && is_letter(t[i - 2])));
    std::size_t j = i;
    while (j < t.size()) {
      if (is_digit(t[j])) ++j;
      else if ((t[j] == ',' || t[j] == '.') && j + 1 < t.size() && is_digit(t[j + 1])) ++j;
      else if ((t[j] == 'e' || t[j] == 'E') && j + 1 < t.size() &&
               (is_digit(t[j + 1]) || ((t[j + 1] == '-' || t[j + 1] == '+') && j + 2 < t.size() && is_digit(t[j + 2]))))
        j += 2;
      else break;
    }
    if (!glued) out.push_back({i, j});
    i = j;
  }
  return out;
}

std::vector<std::string> uncovered_numbers(const json& state) {
  std::map<std::string, std::vector<std::string>> figure_texts;  // panel -> texts
  for (const json& f : state.value("figures", json::array()))
    if (!f.value("text", std::string()).empty()) figure_texts[f.value("panel", "")].push_back(f["text"]);
  std::vector<std::string> problems;
  for (const json& item : state.value("texts", json::array())) {
    const std::string panel = item.value("panel", ""), text = item.value("text", "");
    std::vector<bool> covered(text.size(), false);
    for (const std::string& f : figure_texts[panel])
      for (std::size_t at = text.find(f); at != std::string::npos; at = text.find(f, at + 1))
        for (std::size_t k = at; k < at + f.size(); ++k) covered[k] = true;
    for (const auto& [b, e] : numbers_in(text)) {
      bool all = true;
      for (std::size_t k = b; k < e; ++k) all = all && covered[k];
      if (!all)
        problems.push_back(panel + ": \"" + text.substr(b, e - b) + "\" in \"" + text + "\" is in no declared figure's text");
    }
  }
  return problems;
}

namespace {

// The trace's value for a figure, or null when the trace has no counterpart.
json trace_value(const json& f, const json& lesson, const json& step) {
  const std::string q = f.value("quantity", "");
  const json& config = lesson.value("config", json::object());
  const json numbers = step.value("numbers", json::object());
  const std::string mode = f.value("mode", "");
  const std::string model = f.value("model", "");
  const std::string policy = f.value("policy", "");
  const bool has_layer = f.contains("layer") && f["layer"].is_number_integer();
  const json* m = mode == "cached" ? &step["cached"] : mode == "uncached" ? &step["uncached"] : nullptr;
  // A pane showing a compared policy's run: its own numbers are in numbers.policies, not in the modes.
  if (m && !policy.empty() && step["cached"].value("policy", json::object()).value("spec", "") != policy) m = nullptr;
  auto policy_numbers = [&](const std::string& spec) -> json {
    for (const json& p : numbers.value("policies", json::array()))
      if (p.value("spec", "") == spec) return p;
    return nullptr;
  };
  // A memory-wall figure: its cache's point at those positions (numbers.memory_wall: bytes held, the closed
  // form, the weights). Measured times differ from run to run: no counterpart.
  if (f.contains("wall_cache")) {
    const json wall = numbers.value("memory_wall", json());
    if (wall.is_null()) return "a figure of a memory-wall cache in a step without numbers.memory_wall";
    for (const json& cache : wall["caches"]) {
      if (cache["spec"] != f["wall_cache"]) continue;
      if (q == "weights_bytes") return cache["weights_bytes"];
      if (!f.contains("positions") || (q != "cache_bytes" && q != "positions")) return nullptr;
      for (const json& p : cache["points"])
        if (p["positions"] == f["positions"])
          return q == "positions" ? p["positions"] : f.value("closed_form", false) ? p["closed_form_bytes"] : p["cache_bytes"];
      return "no point of " + f["wall_cache"].get<std::string>() + " at those positions";
    }
    return "no cache " + f["wall_cache"].dump() + " in numbers.memory_wall";
  }
  // The calculator's rows are for one shape and dtype: only the lesson's own are in the trace.
  const json calculator = numbers.value("calculator", json::object());
  const bool other_shape = f.contains("shape") && f["shape"] != calculator.value("shape", "");
  const bool other_dtype = f.contains("dtype") && f["dtype"] != calculator.value("dtype", "");
  if (q == "cache_bytes") {
    if (!policy.empty()) {
      const json p = policy_numbers(policy);
      return p.is_null() ? json() : p["cache_bytes"];
    }
    if (model == "loaded") {
      if (numbers.contains("engine") && f.value("dtype", "fp32") == "fp32" &&
          f.value("positions", -1) == numbers["engine"].value("positions", -2))
        return numbers["engine"]["engine_bytes"];
      if (!f.contains("positions") && mode.empty()) return numbers.contains("engine") ? numbers["engine"]["engine_bytes"] : json();
    }
    if (!model.empty() && model != "loaded") {
      if (model == "MHA" && !f.contains("positions") && numbers.contains("mla")) return numbers["mla"]["mha_bytes"];
      if (numbers.contains("calculator") && !other_shape && !other_dtype &&
          f.value("positions", -1) == numbers["calculator"].value("tokens", -2))
        for (const json& v : numbers["calculator"]["variants"])
          if (v.value("name", "") == model) return v["bytes"];
      return nullptr;
    }
    if (m) return (*m)["cache_bytes"];
    return nullptr;
  }
  if (q == "rows_held") {
    if (m && has_layer) {  // the lesson's own run: per layer, or per layer and KV head under a per-head policy
      const int l = f["layer"];
      const json& policy_trace = (*m).value("policy", json::object());
      if (f.contains("kv_head") && policy_trace.contains("kept_positions_by_kv_head")) {
        const json& by_head = policy_trace["kept_positions_by_kv_head"];
        const int g = f["kv_head"];
        if (l >= int(by_head.size()) || g >= int(by_head[std::size_t(l)].size())) return "no such layer or KV head";
        return by_head[std::size_t(l)][std::size_t(g)].size();
      }
      if (l >= int((*m)["layers"].size())) return "no such layer";
      return (*m)["layers"][std::size_t(l)]["held_rows"].size();
    }
    if (!policy.empty() && f.value("layer", 0) == 0 && f.value("kv_head", 0) == 0) {  // the report's: layer 0, KV head 0
      const json p = policy_numbers(policy);
      return p.is_null() ? json() : p["rows"];
    }
    return nullptr;
  }
  if (q == "kl") {
    if (policy == "window" && numbers.contains("context")) return numbers["context"].value("kl_full_windowed", json());
    if (!policy.empty()) {
      const json p = policy_numbers(policy);
      if (!p.is_null()) return p["kl_from_full"];
      if (step["cached"].contains("policy") && step["cached"]["policy"].value("spec", "") == policy)
        return step["cached"]["policy"]["kl_from_full"];
    }
    return nullptr;
  }
  if (q == "macs" && m) {
    const std::string scope = f.value("scope", "");
    if (scope == "step") return (*m)["macs"];
    if (scope == "total") return (*m)["total_macs"];
    return nullptr;
  }
  if (q == "rows_computed" && m) {
    const std::string scope = f.value("scope", "");
    if (scope == "total") return (*m)["total_rows_computed"];
    if (scope == "step") return (*m)["rows_computed"];
    if (has_layer) {
      const int l = f["layer"];
      if (l >= int((*m)["layers"].size())) return "no such layer";
      return (*m)["layers"][std::size_t(l)]["computed_rows"].size();
    }
    return nullptr;
  }
  if (q == "positions") {
    if (!model.empty() && model != "loaded")
      return numbers.contains("calculator") && !other_shape ? numbers["calculator"].value("tokens", json()) : json();
    if (f.contains("scope")) return nullptr;  // a slider's setting, or the positions a strip leaves out
    if (model == "loaded" && numbers.contains("engine") && f.value("positions", -1) < 0) return nullptr;
    if (model.empty() && step.contains("positions")) return step["positions"][1];
    return nullptr;
  }
  if (q == "kv_heads") {
    if (model == "loaded" || model.empty()) return config.value("n_kv_head", json());
    if (numbers.contains("calculator") && !other_shape)
      for (const json& v : numbers["calculator"]["variants"])
        if (v.value("name", "") == model) return v["kv_heads"];
    return nullptr;
  }
  if (q == "layers" && (model == "loaded" || model.empty())) return config.value("n_layer", json());
  if (q == "heads" && (model == "loaded" || model.empty())) return config.value("n_head", json());
  if (q == "step" && !f.contains("numerics")) return step.value("step", json());
  // A speculative round (the lesson JSON's speculative_round) and the run's totals (numbers.speculative).
  const json round = step.value("speculative_round", json());
  const json totals = numbers.value("speculative", json());
  const bool total = f.value("scope", "") == "total";
  if (q == "accepted" || q == "drafted" || q == "draft_passes") {
    if (total) return totals.is_null() ? json() : totals[q];
    if (round.is_null()) return nullptr;
    return q == "drafted" ? json(round["drafted"].size()) : round[q];
  }
  if (q == "rows_rolled_back" && !round.is_null()) return round["target_rows_rolled_back"];
  if (q == "rows_written" && !round.is_null()) return round["target_rows_written"];
  if ((q == "target_passes" || q == "plain_passes" || q == "new_tokens") && !totals.is_null()) return totals[q];
  // A precision lesson: each numerics' drift, as its run measured it.
  if (q == "max_abs_logit_diff" && f.contains("numerics"))
    for (const json& n : numbers.value("precision", json::array()))
      if (n.value("numerics", "") == f["numerics"]) return n["max_abs_logit_diff"];
  if (q == "max_abs_logit_diff" && f.contains("mode_pair")) return step.value("max_abs_logit_diff", json());
  return nullptr;
}

}  // namespace

std::vector<std::string> figures_against_trace(const json& state, const json& lesson, int step) {
  std::vector<std::string> problems;
  if (step < 0 || step >= int(lesson["steps"].size())) return {"step " + std::to_string(step) + " is not in the trace"};
  const json& s = lesson["steps"][std::size_t(step)];
  for (const json& f : state.value("figures", json::array())) {
    const json expected = trace_value(f, lesson, s);
    if (expected.is_null()) continue;
    const double v = f.value("value", std::nan(""));
    const bool equal = expected.is_number() &&
                       std::abs(v - expected.get<double>()) <= 1e-9 * std::max(1.0, std::abs(expected.get<double>()));
    if (!equal) problems.push_back("step " + std::to_string(step) + ": " + dump_short(f) + " but the trace says " + expected.dump());
  }
  return problems;
}

}  // namespace kvscope::test
