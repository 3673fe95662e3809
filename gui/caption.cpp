#include "gui/caption.h"

#include <cstdio>

#include "gui/trace_view.h"

namespace kvscope::gui {

namespace {

std::string fed_text(const StepTrace& t) {
  std::string s;
  for (int p = t.position_begin; p < t.position_end && p < int(t.context_texts.size()); ++p)
    s += (s.empty() ? "" : " ") + t.context_texts[p];
  return s;
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string uncached_sentence(const StepTrace& t) {
  const ModeTrace& m = t.uncached;
  if (!m.ran) return "Without a cache: not run.";
  std::int64_t redundant = 0;
  for (const LayerRecord& l : m.forward.layers)
    for (int p : l.computed_rows) redundant += p < t.position_begin ? 1 : 0;
  const std::vector<int>& rows = m.forward.layers.empty() ? std::vector<int>{} : m.forward.layers[0].computed_rows;
  std::string s = "Without a cache: K and V " + std::string(t.prefill ? "computed" : "recomputed") +
                  (rows.size() == 1 ? " for position " : " for positions ") + position_list(rows) + " in every layer (" +
                  (redundant ? plural(redundant, "row", "rows") + " redundant" : std::string("none redundant yet")) + ").";
  return s;
}

std::string cached_sentence(const StepTrace& t) {
  const ModeTrace& m = t.cached;
  if (!m.ran) return "With a cache: not run.";
  if (m.forward.layers.empty()) return "With a cache: no layers recorded.";
  const LayerRecord& l = m.forward.layers[0];
  std::string s = "With a cache: " + plural(std::int64_t(l.computed_rows.size()), "new row", "new rows") + " per layer";
  if (t.prefill) s += " (prefill writes the prompt's rows at once)";
  s += l.reused_rows.empty() ? "; nothing to read back yet" : (l.reused_rows.size() == 1 ? "; row " : "; rows ") + position_list(l.reused_rows) + " read back";
  if (!l.evicted_rows.empty()) s += "; row " + position_list(l.evicted_rows) + " evicted by the window";
  return s + ".";
}

}  // namespace

Caption make_caption(const StepTrace& t, float tolerance) {
  Caption c;
  const std::string phase = t.prefill ? "Prefill" : "Decode";
  if (t.prefill && t.position_end - t.position_begin > 1)
    c.title = "Step " + std::to_string(t.step) + " \xE2\x80\x94 prompt " + quoted(fed_text(t)) + " at positions " +
              std::to_string(t.position_begin) + "\xE2\x80\x93" + std::to_string(t.position_end - 1) + " \xC2\xB7 " + phase;
  else
    c.title = "Step " + std::to_string(t.step) + " \xE2\x80\x94 " + quoted(fed_text(t)) + " at position " +
              std::to_string(t.newest_position()) + " \xC2\xB7 " + phase;
  c.uncached = uncached_sentence(t);
  c.cached = cached_sentence(t);
  char diff[32];
  std::snprintf(diff, sizeof diff, "%.1e", double(t.max_abs_logit_diff));
  if (t.both_ran()) {
    c.modes_agree = t.max_abs_logit_diff <= tolerance;
    c.badge = std::string(c.modes_agree ? "cached = uncached \xE2\x9C\x93" : "cached \xE2\x89\xA0 uncached \xE2\x9C\x95") +
              "  max |\xCE\x94logit| " + diff;
  } else {
    c.badge = "one mode only: no comparison";
  }
  return c;
}

}  // namespace kvscope::gui
