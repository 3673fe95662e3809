#include "core/lessons/caption.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kvscope {

namespace {

std::string fed_text(const StepTrace& t) {
  std::string s;
  for (int p = t.position_begin; p < t.position_end && p < int(t.context_texts.size()); ++p)
    s += (s.empty() ? "" : " ") + t.context_texts[p];
  return s;
}

// "1.35e-03": a measured difference, `digits` after the point.
std::string scientific(double value, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*e", digits, value);
  return buf;
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "0–3, 54–65": runs of consecutive positions as ranges (kept sets are a few runs).
std::string position_runs(const std::vector<int>& p) {
  if (p.empty()) return "none";
  std::string s;
  for (std::size_t i = 0; i < p.size();) {
    std::size_t j = i;
    while (j + 1 < p.size() && p[j + 1] == p[j] + 1) ++j;
    s += (s.empty() ? "" : ", ") + position_range(p[i], p[j]);
    i = j + 1;
  }
  return s;
}

std::string uncached_sentence(const StepTrace& t, FigureLog& f) {
  const ModeTrace& m = t.uncached;
  if (!m.ran) return "Without a cache: not run.";
  std::int64_t redundant = 0;
  for (const LayerRecord& l : m.forward.layers)
    for (int p : l.computed_rows) redundant += p < t.position_begin ? 1 : 0;
  const std::vector<int>& rows = m.forward.layers.empty() ? std::vector<int>{} : m.forward.layers[0].computed_rows;
  const bool first = t.position_begin == 0;  // nothing before: computed, not recomputed
  const bool latent = !m.forward.layers.empty() && !m.forward.layers[0].rebuilt_rows.empty();  // MLA
  std::string s = std::string("Without a cache: ") + (latent ? "latent rows, K and V " : "K and V ") +
                  std::string(first ? "computed" : "recomputed") +
                  (rows.size() == 1 ? " for position " : " for positions ") + f.note("position", rows.empty() ? 0 : rows.front(), position_list(rows)) +
                  " in every layer (" +
                  (redundant ? f.note("rows_recomputed", double(redundant), plural(redundant, "row", "rows"), {{"mode", "uncached"}, {"scope", "step"}}) + " redundant"
                             : std::string("none redundant yet")) + ").";
  return s;
}

std::string cached_sentence(const StepTrace& t, FigureLog& f) {
  const ModeTrace& m = t.cached;
  if (!m.ran) return "With a cache: not run.";
  if (m.forward.layers.empty()) return "With a cache: no layers recorded.";
  const LayerRecord& l = m.forward.layers[0];
  const bool latent = !l.rebuilt_rows.empty();  // MLA: the cache holds latent rows, K and V are rebuilt
  std::string s = "With a cache: " + f.note("rows_computed", double(l.computed_rows.size()),
                                            plural(std::int64_t(l.computed_rows.size()), latent ? "new latent row" : "new row",
                                                   latent ? "new latent rows" : "new rows"),
                                            {{"layer", 0}, {"mode", "cached"}}) + " per layer";
  if (t.prefill && t.position_begin == 0) s += " (prefill writes the prompt's rows at once)";
  s += l.reused_rows.empty() ? "; nothing to read back yet" : (l.reused_rows.size() == 1 ? "; row " : "; rows ") + f.note("position", l.reused_rows.front(), position_runs(l.reused_rows)) + " read back";
  if (latent) s += "; K and V rebuilt from the latent rows of " + f.note("position", l.rebuilt_rows.front(), position_runs(l.rebuilt_rows)) + " (temporaries)";
  if (!l.evicted_rows.empty())
    s += (l.evicted_rows.size() == 1 ? "; row " : "; rows ") + f.note("position", l.evicted_rows.front(), position_runs(l.evicted_rows)) + " evicted by the " +
         (m.policy.active ? "policy" : "window");
  if (!m.rolled_back.empty())
    s += (m.rolled_back.size() == 1 ? "; row " : "; rows ") + f.note("position", m.rolled_back.front(), position_runs(m.rolled_back)) +
         " then rolled back (rejected guesses)";
  return s + ".";
}

// Layer 0, KV head 0 stands for the rest: they agree unless the rule chose by head (then said so).
std::string policy_sentence(const StepTrace& t, FigureLog& f) {
  const PolicyTrace& p = t.cached.policy;
  if (!p.active) return "";
  const std::vector<int>& kept = p.kept_at(0, 0);
  std::string s = "Policy " + f.note("policy_spec", 0, p.spec) + ": " +
                  f.note("rows_held", double(kept.size()), plural(std::int64_t(kept.size()), "row", "rows"),
                         {{"layer", 0}, {"kv_head", 0}, {"mode", "cached"}}) + " held per layer" +
                  (t.cached.forward.kv_head_of_query.empty() ? "" : " and KV head");
  std::string parts;
  for (const auto& [why, positions] : p.kept_by_reason(0, 0))
    parts += (parts.empty() ? "" : ", ") + why + " " + f.note("position", positions.empty() ? 0 : positions.front(), position_runs(positions));
  if (p.per_head) parts += " (" + f.note("layer", 0, "layer 0") + ", " + f.note("kv_head", 0, "KV head 0") + "; they differ by layer or head)";
  if (p.evicts && !parts.empty()) s += " (" + parts + ")";
  if (!p.evicted_at(0, 0).empty()) s += "; evicted now: " + f.note("position", p.evicted_at(0, 0).front(), position_runs(p.evicted_at(0, 0)));
  s += ". ";
  if (p.evicts && !kept.empty() && kept.size() < std::size_t(t.position_end))
    s += "The kept keys carry the rotation of their original positions (" + f.note("position", kept.front(), position_runs(kept)) +
         "); the next query sits at its true position " + f.note("position", t.position_end, std::to_string(t.position_end)) +
         " (StreamingLLM would re-number them " + f.note("position", 0, position_range(0, int(kept.size()) - 1)) +
         " and put the query at " + f.note("position", double(kept.size()), std::to_string(kept.size())) + "). ";
  s += "KL(full \xE2\x80\x96 policy) " + f.note("kl", p.kl_from_full, scientific(p.kl_from_full, 2), {{"policy", p.spec}}) +
       " nats, max |\xCE\x94p| " + f.note("max_abs_prob_diff", p.max_abs_prob_diff, scientific(p.max_abs_prob_diff, 2), {{"policy", p.spec}}) +
       ", top token " + (p.top1_agrees ? "agrees \xE2\x9C\x93" : "differs \xE2\x9C\x95");
  s += "; " + f.note("cache_bytes", double(p.cache_bytes), format_bytes(p.cache_bytes), {{"mode", "cached"}}) + " held vs " +
       f.note("full_cache_bytes", double(p.full_cache_bytes), format_bytes(p.full_cache_bytes), {{"mode", "cached"}}) + " for the full cache";
  if (p.max_abs_k_error > 0.0f || p.max_abs_v_error > 0.0f)
    s += "; rows read off by up to |\xCE\x94K| " + f.note("max_abs_k_error", p.max_abs_k_error, scientific(p.max_abs_k_error, 1)) +
         ", |\xCE\x94V| " + f.note("max_abs_v_error", p.max_abs_v_error, scientific(p.max_abs_v_error, 1));
  return s + ".";
}

}  // namespace

Caption make_caption(const StepTrace& t, float tolerance) {
  Caption c;
  FigureLog f;
  const std::string phase = t.prefill ? "Prefill" : "Decode";
  const std::string step = f.note("step", t.step, "Step " + std::to_string(t.step));
  // The tokens fed, as text (ids for a model without a vocabulary: "#464").
  const std::string fed = f.note("token", t.input_ids.empty() ? 0 : t.input_ids.front(), quoted(fed_text(t)));
  if (t.position_end - t.position_begin > 1)
    c.title = step + " \xE2\x80\x94 " + (t.position_begin == 0 ? "prompt " : "") + fed + " at positions " +
              f.note("position", t.position_begin, position_range(t.position_begin, t.position_end - 1)) + " \xC2\xB7 " + phase;
  else
    c.title = step + " \xE2\x80\x94 " + fed + " at position " +
              f.note("position", t.newest_position(), std::to_string(t.newest_position())) + " \xC2\xB7 " + phase;
  c.uncached = uncached_sentence(t, f);
  c.cached = cached_sentence(t, f);
  c.policy = policy_sentence(t, f);
  const std::string diff = f.note("max_abs_logit_diff", t.max_abs_logit_diff, scientific(t.max_abs_logit_diff, 1));
  if (t.both_ran()) {
    c.modes_agree = t.max_abs_logit_diff <= tolerance;
    c.lossy = t.cached.policy.active && t.cached.policy.spec != "full";
    if (c.lossy && !c.modes_agree) {  // not a failure: the price of the policy, measured each step
      // Which figure answers "did the output change" (the top token, KL of the next-token
      // distributions) and which is only the raw logit difference.
      const PolicyTrace& p = t.cached.policy;
      c.badge = std::string("lossy cache: output ") + (p.top1_agrees ? "top-1 same \xE2\x9C\x93" : "top-1 differs \xE2\x9C\x95") +
                ", KL " + f.note("kl", p.kl_from_full, scientific(p.kl_from_full, 1), {{"policy", p.spec}}) +
                " \xC2\xB7 raw max |\xCE\x94logit| " + diff;
    }
    else if (t.rounded && !c.modes_agree) {  // not a failure either: 16-bit rounding after another summation order
      c.lossy = true;
      c.badge = f.note("numerics", 0, t.numerics) + " rounding: cached \xE2\x89\xA0 uncached, max |\xCE\x94logit| " + diff +
                ", top-1 " + (t.top1_agrees ? "same \xE2\x9C\x93" : "differs \xE2\x9C\x95");
    } else
      c.badge = std::string(c.modes_agree ? "cached = uncached \xE2\x9C\x93" : "cached \xE2\x89\xA0 uncached \xE2\x9C\x95") +
                "  max |\xCE\x94logit| " + diff;
  } else {
    c.badge = "one mode only: no comparison";
  }
  c.figures = std::move(f.figures());
  return c;
}

std::string quoted(const std::string& text) {
  if (!text.empty() && text[0] == '#') return text;
  return "'" + text + "'";
}

std::string position_list(const std::vector<int>& positions) {
  if (positions.empty()) return "none";
  std::vector<int> p = positions;
  std::sort(p.begin(), p.end());
  const bool contiguous = p.back() - p.front() + 1 == int(p.size());
  if (p.size() == 1) return std::to_string(p[0]);
  if (contiguous) return std::to_string(p.front()) + "\xE2\x80\x93" + std::to_string(p.back());  // en dash
  std::string s;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (i == 6 && p.size() > 8) return s + ", \xE2\x80\xA6 " + std::to_string(p.back());
    s += (i ? ", " : "") + std::to_string(p[i]);
  }
  return s;
}

std::string position_range(int first, int last) {
  if (first == last) return std::to_string(first);
  return std::to_string(first) + "\xE2\x80\x93" + std::to_string(last);
}

std::string format_bytes(std::int64_t bytes) { return format_decimal_bytes(double(bytes)); }

std::string format_count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string format_decimal_bytes(double bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (std::abs(bytes) >= 1000.0 && u < 5) {
    bytes /= 1000.0;
    ++u;
  }
  char buf[48];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else
    std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}

std::string global_layers_text(const ModelConfig& config) {
  if (config.n_local_layers() == 0 || config.n_local_layers() == config.n_layer) return "";
  std::string s;
  for (int l = 0; l < config.n_layer; ++l)
    if (!config.layer_local(l)) s += (s.empty() ? "global: L" : ", L") + std::to_string(l);
  return s;
}

std::string format_difference(double value) {
  if (value == 0.0) return "0 (bitwise identical)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", value);
  return buf;
}

std::string format_short_count(double n) {
  char buf[32];
  if (std::abs(n) >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  else if (std::abs(n) >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (std::abs(n) >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

std::string format_milliseconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
  return buf;
}

}  // namespace kvscope
