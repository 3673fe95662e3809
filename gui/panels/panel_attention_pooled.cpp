// The attention heatmap at long contexts. Past a few hundred positions a step keeps its weights pooled
// (LayerRecord::pooled): square cells of many positions a side, each holding its largest weight and its
// mean. The panel draws those cells (the largest, or the mean on a toggle) and under them the newest
// query's row of exact weights (LayerRecord::newest_attention) over a range of keys: scrolling zooms it
// down to one cell per position, dragging pans it, a click on the cells shows that cell's keys.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

const char* const kDash = "\xE2\x80\x93";

std::string range_text(const char* quantity, int first, int last) {
  return drawn::figure(quantity, first, format_count(first)) + kDash + drawn::figure(quantity, last, format_count(last));
}

struct StripRange {
  int begin = 0, count = 0;
};

StripRange strip_range(const PanelContext& c, int n) {
  StripRange r;
  r.count = c.view->strip_keys <= 0 ? n : std::clamp(c.view->strip_keys, 1, n);
  r.begin = std::clamp(c.view->strip_begin, 0, n - r.count);
  return r;
}

void push_strip(PanelContext& c, int begin, int count) {
  c.actions->push_back({ActionType::SetStripRange, begin, "", 0.0f, count});
}

// The newest query's weights over the strip's keys: one cell per key when they fit at a readable size,
// else columns of a few pixels, each the largest weight of its keys.
void draw_newest_strip(PanelContext& c, PaneKind pane, const ForwardRecord& f, ImVec2 at, float width, float min_cell) {
  const float th = ImGui::GetTextLineHeight();
  const int n = f.key_end, query = n - 1, layer = c.ui->layer, head = c.ui->head;
  const StripRange range = strip_range(c, n);
  const bool per_key = float(range.count) * min_cell <= width;
  const int columns = per_key ? range.count : std::max(1, int(width / 3.0f));
  const std::vector<float> values = newest_row_columns(f, layer, head, range.begin, range.count, columns);
  const LayerRecord& l = f.layers[std::size_t(layer)];
  const float top = std::max(1e-30f, head < int(l.newest_attention.size()) ? l.newest_attention[std::size_t(head)].maxCoeff() : 0.0f);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImGui::SetCursorScreenPos(at);
  // One line that fits: the keys shown, then how they are drawn if there is room.
  std::string title = "Newest query, exact: keys " + range_text("position", range.begin, range.begin + range.count - 1);
  const std::string more = per_key ? " (scroll: zoom out)" : " (scroll: zoom)";
  if (ImGui::CalcTextSize((title + more).c_str()).x <= width + th * 3.0f) title += more;
  drawn::TextUnformatted(title);
  const ImVec2 p(at.x, at.y + th + 4);
  const float strip_h = th * 1.4f, cell_w = width / float(columns);
  const HeatmapColors& heat = c.pal->heat;
  const ImU32 masked = ImGui::ColorConvertFloat4ToU32(ImVec4(heat.masked[0], heat.masked[1], heat.masked[2], 1.0f));
  for (int i = 0; i < columns; ++i) {
    const float v = values[std::size_t(i)];
    dl->AddRectFilled(ImVec2(p.x + cell_w * i, p.y), ImVec2(p.x + cell_w * (i + 1) + (per_key ? -1.0f : 0.5f), p.y + strip_h),
                      v < 0.0f ? masked : viridis(std::clamp(v / top, 0.0f, 1.0f)));
  }
  draw_weight_scale(c, dl, ImVec2(p.x + width + th * 0.6f, p.y), strip_h, top);
  c.record->pane_value("strip_keys", pane, {range.begin, range.count});
  // Key labels under the strip: the first and the last key, and every key with room when per key.
  const float number_w = ImGui::CalcTextSize(format_count(range.begin + range.count - 1).c_str()).x + th * 0.8f;
  const int every = per_key ? std::max(1, int(std::ceil(number_w / cell_w))) : range.count;
  for (int i = 0; i < range.count; i += every) {
    const int k = range.begin + i;
    const std::string s = drawn::figure("position", k, format_count(k));
    const float x = per_key ? p.x + cell_w * (i + 0.5f) - ImGui::CalcTextSize(s.c_str()).x * 0.5f : p.x;
    drawn::AddText(dl, ImVec2(std::max(p.x, x), p.y + strip_h + 2), c.pal->text, s);
  }
  if (!per_key || (range.count - 1) % every != 0) {
    const std::string s = drawn::figure("position", range.begin + range.count - 1, format_count(range.begin + range.count - 1));
    drawn::AddText(dl, ImVec2(p.x + width - ImGui::CalcTextSize(s.c_str()).x, p.y + strip_h + 2), c.pal->text, s);
  }
  ImGui::SetCursorScreenPos(p);
  ImGui::InvisibleButton("newest_strip", ImVec2(width, strip_h));
  c.record->pane_rect("newest_strip", pane, {p.x, p.y, p.x + width, p.y + strip_h});
  if (!ImGui::IsItemHovered() && !ImGui::IsItemActive()) return;
  const float mx = std::clamp(ImGui::GetMousePos().x - p.x, 0.0f, width - 1.0f);
  const int column = std::clamp(int(mx / cell_w), 0, columns - 1);
  const int k0 = range.begin + int(std::int64_t(column) * range.count / columns);
  const int k1 = std::max(k0, range.begin + int(std::int64_t(column + 1) * range.count / columns) - 1);
  const float v = values[std::size_t(column)];
  if (per_key) {
    push_action(c, ActionType::Hover, k0);
    if (v < 0.0f)
      drawn::SetTooltip("key %s %s: masked for the newest query", drawn::figure("position", k0, format_count(k0)).c_str(),
                        token_label(*c.trace, k0).c_str());
    else
      drawn::SetTooltip("key %s %s \xE2\x86\x90 query %s\nweight %s", drawn::figure("position", k0, format_count(k0)).c_str(),
                        token_label(*c.trace, k0).c_str(), drawn::figure("position", query, format_count(query)).c_str(),
                        drawn::figure("attention_weight", v, drawn::format("%.4g", double(v)),
                                      {{"layer", layer}, {"head", head}, {"query", query}, {"key", k0}}).c_str());
  } else {
    drawn::SetTooltip("keys %s: largest weight %s\nscroll: zoom in, down to one key a cell \xC2\xB7 drag: pan",
                      range_text("position", k0, k1).c_str(),
                      v < 0.0f ? "(masked)" : drawn::figure("attention_weight", v, drawn::format("%.4g", double(v))).c_str());
  }
  // Scroll: zoom around the pointer (down to one key a cell); drag: pan.
  const float wheel = ImGui::GetIO().MouseWheel;
  const int fewest = std::max(1, int(width / (min_cell * 4.0f)));
  if (wheel != 0.0f) {
    const int count = std::clamp(wheel > 0 ? range.count / 2 : range.count * 2, std::min(fewest, n), n);
    const int centre = k0;
    const int begin = std::clamp(centre - int(std::int64_t(centre - range.begin) * count / std::max(1, range.count)), 0, n - count);
    push_strip(c, begin, count >= n ? 0 : count);
  } else if (ImGui::IsItemActive() && ImGui::GetIO().MouseDelta.x != 0.0f && range.count < n) {
    const int delta = int(std::lround(-ImGui::GetIO().MouseDelta.x / cell_w * (per_key ? 1.0f : float(range.count) / columns)));
    if (delta != 0) push_strip(c, std::clamp(range.begin + delta, 0, n - range.count), range.count);
  }
}

}  // namespace

void draw_pooled_attention(PanelContext& c, PaneKind pane, HeatmapRenderer& renderer, const ModeTrace& m) {
  const LayerRecord& l = m.forward.layers[std::size_t(c.ui->layer)];
  const PooledAttention& pooled = l.pooled;
  const int head = std::clamp(c.ui->head, 0, int(pooled.max.size()) - 1);
  const bool mean = c.view->pooled_mean;
  const Matrix& cells = mean ? pooled.mean[std::size_t(head)] : pooled.max[std::size_t(head)];
  const int n = c.trace->position_end, cell = pooled.cell, n_cells = int(cells.cols());
  const float th = ImGui::GetTextLineHeight();
  const double top = mean ? std::max(1e-30, double(cells.maxCoeff())) : 1.0;
  drawn::Text("Cells of %s \xC3\x97 %s positions: %s weight, log colours", drawn::figure("positions_per_cell", cell, std::to_string(cell)).c_str(),
              drawn::figure("positions_per_cell", cell, std::to_string(cell)).c_str(), mean ? "mean" : "largest");
  const char* toggle = mean ? "show largest##pooled" : "show mean##pooled";
  // Beside the line when the button fits there, else under it (never cut at the panel's edge).
  const float button_w = ImGui::CalcTextSize("show largest").x + ImGui::GetStyle().FramePadding.x * 2.0f + ImGui::GetStyle().ItemSpacing.x;
  if (ImGui::GetItemRectMax().x + button_w <= ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x) ImGui::SameLine();
  drawn::Label(toggle);
  if (ImGui::SmallButton(toggle)) push_action(c, ActionType::SetPooledMean, mean ? 0 : 1);
  c.record->pane_rect("pooled_toggle", pane, last_item_rect());

  // The cells fill the panel: keys across its width, queries down its height (wider than tall, as a
  // projector's panel is), with the strip under them spanning the same keys.
  const ImVec2 start = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  const float number_w = ImGui::CalcTextSize(format_count(n).c_str()).x + th * 0.6f;
  const float label_w = number_w, bar_w = th * 5.5f, strip_h = th * 3.6f;
  const float grid_w = std::max(th * 3.0f, avail.x - label_w - bar_w);
  const float grid_h = std::max(th * 3.0f, avail.y - strip_h - th - 6.0f);
  const ImVec2 o(start.x + label_w, start.y + th + 4);
  const float cell_w = grid_w / float(n_cells), cell_h = grid_h / float(n_cells);
  HeatmapRequest request;
  request.data_key = ((c.trace_version * 4096u + std::uint64_t(c.ui->layer) * 64u + std::uint64_t(head)) << 1) | (mean ? 1u : 0u);
  request.weights = &cells;
  request.n_positions = n_cells;
  request.query_begin = pooled.row_cell_begin;
  request.value_scale = float(top);
  // Weights at long contexts span decades (a row of t keys averages 1/t): a logarithmic scale from a
  // tenth of the uniform weight shows how attention thins as rows grow, which a linear one paints dark.
  const double floor = std::min(top * 0.5, 0.1 / n);
  request.log_floor = float(floor);
  const float scale = ImGui::GetIO().DisplayFramebufferScale.x;
  const GLuint texture = renderer.render(request, HeatmapView{0, 0, n_cells, n_cells}, std::max(1, int(std::lround(grid_w * scale))),
                                         std::max(1, int(std::lround(grid_h * scale))), c.pal->heat);
  ImGui::SetCursorScreenPos(o);
  ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture)), ImVec2(grid_w, grid_h), ImVec2(0, 1), ImVec2(1, 0));
  c.record->pane_rect("heatmap", pane, {o.x, o.y, o.x + grid_w, o.y + grid_h});
  c.record->pane_value("heatmap_cells", pane, {n_cells, n_cells});
  c.record->pane_value("heatmap_positions_per_cell", pane, cell);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  // Hover: the cell's positions and both numbers; a click sends the strip to its keys.
  if (ImGui::IsItemHovered()) {
    const ImVec2 mp = ImGui::GetMousePos();
    const int kc = std::clamp(int((mp.x - o.x) / cell_w), 0, n_cells - 1), rc = std::clamp(int((mp.y - o.y) / cell_h), 0, n_cells - 1);
    const int k0 = kc * cell, k1 = std::min(n, k0 + cell) - 1, q0 = rc * cell, q1 = std::min(n, q0 + cell) - 1;
    const int row = rc - pooled.row_cell_begin;
    const std::string keys = range_text("position", k0, k1), queries = range_text("position", q0, q1);
    if (row < 0 || row >= int(cells.rows()))
      drawn::SetTooltip("queries %s \xE2\x86\x92 keys %s\nnot computed in this pane this step (no Q is kept)", queries.c_str(), keys.c_str());
    else if (pooled.max[std::size_t(head)](row, kc) < 0.0f)
      drawn::SetTooltip("queries %s \xE2\x86\x92 keys %s\nmasked: these queries read none of these keys", queries.c_str(), keys.c_str());
    else
      drawn::SetTooltip("queries %s \xE2\x86\x92 keys %s\nlargest weight %s \xC2\xB7 mean %s\nclick: these keys in the newest query's row",
                        queries.c_str(), keys.c_str(),
                        drawn::figure("attention_max", pooled.max[std::size_t(head)](row, kc),
                                      drawn::format("%.4g", double(pooled.max[std::size_t(head)](row, kc)))).c_str(),
                        drawn::figure("attention_mean", pooled.mean[std::size_t(head)](row, kc),
                                      drawn::format("%.3g", double(pooled.mean[std::size_t(head)](row, kc)))).c_str());
    if (ImGui::IsItemClicked()) push_strip(c, k0, k1 - k0 + 1);
  }
  // Cell starts on both axes, as many as fit apart.
  // Steps of a power of two cells: with cells a power of two positions wide, labels land on round positions.
  auto power_of_two_at_least = [](int x) {
    int p = 1;
    while (p < x) p *= 2;
    return p;
  };
  const int every_key = power_of_two_at_least(int(std::ceil(std::max(number_w, th * 1.6f) / cell_w)));
  for (int i = 0; i < n_cells; i += every_key) {
    const std::string s = drawn::figure("position", i * cell, format_count(i * cell));
    if (cell_w * i + ImGui::CalcTextSize(s.c_str()).x <= grid_w) drawn::AddText(dl, ImVec2(o.x + cell_w * i, o.y - th - 2), c.pal->text, s);
  }
  const int every_row = power_of_two_at_least(int(std::ceil(th * 1.2f / cell_h)));
  for (int i = 0; i < n_cells; i += every_row) {
    if (cell_h * i + th > grid_h) break;
    const std::string s = drawn::figure("position", i * cell, format_count(i * cell));
    drawn::AddText(dl, ImVec2(o.x - ImGui::CalcTextSize(s.c_str()).x - 6, o.y + cell_h * i), c.pal->text, s);
  }
  // The rows this pane computed, outlined, as the exact heatmap does.
  const int r0 = pooled.row_cell_begin, r1 = r0 + int(cells.rows());
  dl->AddRect(ImVec2(o.x - 2, o.y + cell_h * r0 - 2), ImVec2(o.x + grid_w + 2, o.y + cell_h * r1 + 2), c.pal->outline, 0, 0, 3.0f);
  if (cell_h * r0 >= th * 1.5f) {
    const char* note = "no Q kept for earlier rows";
    const ImVec2 size = ImGui::CalcTextSize(note);
    if (size.x < grid_w - 8) drawn::AddText(dl, ImVec2(o.x + (grid_w - size.x) * 0.5f, o.y + (cell_h * r0 - size.y) * 0.5f), c.pal->text, note);
  }
  draw_weight_scale(c, dl, ImVec2(o.x + grid_w + th * 0.6f, o.y), grid_h, top, floor, true);
  const float min_cell = std::max(8.0f, c.fonts->body_px * 0.55f);
  draw_newest_strip(c, pane, m.forward, ImVec2(o.x, o.y + grid_h + 6), grid_w, min_cell);
}

}  // namespace kvscope::gui
