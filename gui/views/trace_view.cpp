#include "gui/views/trace_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kvscope::gui {

const char* row_kind_glyph(RowKind kind) {
  switch (kind) {
    case RowKind::NewlyComputed: return "\xE2\x9C\x9A";  // ✚
    case RowKind::Recomputed: return "\xE2\x86\xBB";     // ↻
    case RowKind::ReadFromCache: return "\xE2\x9C\x93";  // ✓
    case RowKind::Evicted: return "\xE2\x9C\x95";        // ✕
    case RowKind::RolledBack: return "\xE2\x86\xA9";     // ↩
  }
  return "?";
}

const char* row_kind_name(RowKind kind) {
  switch (kind) {
    case RowKind::NewlyComputed: return "new";
    case RowKind::Recomputed: return "recomputed";
    case RowKind::ReadFromCache: return "from cache";
    case RowKind::Evicted: return "evicted";
    case RowKind::RolledBack: return "rolled back";
  }
  return "?";
}

namespace {

int index_of(const std::vector<int>& v, int x) {
  auto it = std::find(v.begin(), v.end(), x);
  return it == v.end() ? -1 : int(it - v.begin());
}

// The K/V values of `position` in `layer` as the cached mode computed them: at the latest step
// <= step whose cached forward projected that position.
void find_cached_values(const std::vector<StepTrace>& history, int step, int layer, RowView& row) {
  for (int s = step; s >= 0; --s) {
    const ModeTrace& m = history[s].cached;
    if (!m.ran || layer >= int(m.forward.layers.size())) continue;
    const LayerRecord& l = m.forward.layers[layer];
    const int i = index_of(l.computed_rows, row.position);
    if (i < 0) continue;
    row.computed_at_step = s;
    if (m.forward.with_rows && i < l.keys.rows()) {
      row.key = l.keys.row(i).data();
      row.value = l.values.row(i).data();
    }
    if (i < l.latent_rows.rows()) row.latent = l.latent_rows.row(i).data();
    return;
  }
}

void fill_costs(const ModeTrace& m, int layer, PaneView& pane) {
  pane.ran = m.ran;
  pane.rows_computed_step = m.rows_computed();
  pane.rows_computed_total = m.total_rows_computed;
  pane.macs_step = m.macs();
  pane.macs_total = m.total_macs;
  pane.seconds = m.seconds;
  pane.cache_bytes = m.cache_bytes;
  if (layer < int(m.forward.layers.size())) {
    const LayerRecord& l = m.forward.layers[layer];
    pane.rows_computed_per_layer = std::int64_t(l.computed_rows.size());
    pane.rows_read_all_queries = l.keys_read;
    if (!l.row_keys_read.empty()) pane.rows_read_newest = l.row_keys_read.back();  // a policy may skip evicted keys
  }
}

}  // namespace

PaneView uncached_pane(const std::vector<StepTrace>& history, int step, int layer) {
  PaneView pane;
  const StepTrace& t = history[step];
  const ModeTrace& m = t.uncached;
  fill_costs(m, layer, pane);
  if (!m.ran) return pane;
  for (int l = 0; l < int(m.forward.layers.size()); ++l) {
    const LayerRecord& rec = m.forward.layers[l];
    std::vector<RowKind> kinds(std::size_t(t.position_end), RowKind::Recomputed);
    for (int i = 0; i < int(rec.computed_rows.size()); ++i) {
      const int p = rec.computed_rows[i];
      const RowKind kind = p < t.position_begin ? RowKind::Recomputed : RowKind::NewlyComputed;
      if (p < t.position_end) kinds[p] = kind;
      if (kind == RowKind::Recomputed) ++pane.redundant_rows;
      if (l != layer) continue;
      RowView row;
      row.position = p;
      row.kind = kind;
      row.computed_at_step = step;
      if (m.forward.with_rows && i < rec.keys.rows()) {
        row.key = rec.keys.row(i).data();
        row.value = rec.values.row(i).data();
      }
      pane.rows.push_back(row);
    }
    pane.layers.push_back(std::move(kinds));
  }
  std::sort(pane.rows.begin(), pane.rows.end(), [](const RowView& a, const RowView& b) { return a.position < b.position; });
  return pane;
}

PaneView cached_pane(const std::vector<StepTrace>& history, int step, int layer) {
  PaneView pane;
  const StepTrace& t = history[step];
  const ModeTrace& m = t.cached;
  fill_costs(m, layer, pane);
  if (!m.ran) return pane;
  for (int l = 0; l < int(m.forward.layers.size()); ++l) {
    const LayerRecord& rec = m.forward.layers[l];
    std::vector<RowKind> kinds(std::size_t(t.position_end), RowKind::Evicted);
    std::vector<RowView> rows;
    auto add = [&](const std::vector<int>& positions, RowKind kind) {
      for (int p : positions) {
        if (p >= 0 && p < t.position_end) kinds[p] = kind;
        RowView row;
        row.position = p;
        row.kind = kind;
        rows.push_back(row);
      }
    };
    add(rec.evicted_rows, RowKind::Evicted);
    add(rec.reused_rows, RowKind::ReadFromCache);
    add(rec.computed_rows, RowKind::NewlyComputed);
    for (int p : m.rolled_back) {  // written, then taken back: no longer in the cache
      if (p >= 0 && p < t.position_end) kinds[std::size_t(p)] = RowKind::RolledBack;
      for (RowView& row : rows)
        if (row.position == p) row.kind = RowKind::RolledBack;
    }
    pane.layers.push_back(std::move(kinds));
    if (l != layer) continue;
    for (RowView& row : rows) {
      find_cached_values(history, step, layer, row);
      const int r = index_of(rec.rebuilt_rows, row.position);
      if (r >= 0 && r < rec.rebuilt_keys.rows()) row.rebuilt_key = rec.rebuilt_keys.row(r).data();
      if (!row.latent) continue;
      pane.latent_width = int(rec.latent_rows.cols());
      for (int i = 0; i < pane.latent_width; ++i) pane.latent_scale = std::max(pane.latent_scale, std::abs(row.latent[i]));
    }
    std::sort(rows.begin(), rows.end(), [](const RowView& a, const RowView& b) { return a.position < b.position; });
    pane.rows = std::move(rows);
  }
  return pane;
}

std::string format_seconds(double seconds) {
  char buf[32];
  if (seconds < 1e-3)
    std::snprintf(buf, sizeof buf, "%.0f \xC2\xB5s", seconds * 1e6);
  else if (seconds < 1.0)
    std::snprintf(buf, sizeof buf, "%.1f ms", seconds * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  return buf;
}

std::string format_percent(double probability) {
  const double percent = probability * 100.0;
  if (percent < 0.05) return "<0.1%";
  char buf[32];
  std::snprintf(buf, sizeof buf, percent < 0.95 ? "%.1f%%" : "%.0f%%", percent);
  return buf;
}

bool attention_pooled(const StepTrace& t) {
  for (const ModeTrace* m : {&t.cached, &t.uncached})
    if (m->ran && !m->forward.layers.empty() && !m->forward.layers.front().pooled.empty()) return true;
  return false;
}

std::vector<float> newest_row_columns(const ForwardRecord& forward, int layer, int head, int begin, int count, int columns) {
  std::vector<float> out(std::size_t(std::max(0, columns)), -1.0f);
  if (layer < 0 || layer >= int(forward.layers.size())) return out;
  const LayerRecord& l = forward.layers[std::size_t(layer)];
  if (head < 0 || head >= int(l.newest_attention.size()) || columns <= 0) return out;
  const RowVector& w = l.newest_attention[std::size_t(head)];
  begin = std::clamp(begin, 0, int(w.size()));
  count = std::clamp(count, 0, int(w.size()) - begin);
  const int query = forward.key_end - 1;
  for (int k = begin; k < begin + count; ++k) {
    if (!forward.key_read(layer, query, k)) continue;
    float& cell = out[std::size_t(std::int64_t(k - begin) * columns / count)];
    cell = std::max(cell, w[k]);
  }
  return out;
}

}  // namespace kvscope::gui
