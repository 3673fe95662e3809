// Attention heatmap, query x key by position, for the chosen layer and head: drawn by the colormap
// shader (HeatmapRenderer); masked future cells hatched; the query rows computed this step outlined
// (all of them without a cache, only the newest with one); token labels on both axes; the exact
// weight and both tokens on hover. The matrix fills the panel; when that would make cells smaller
// than a back row can read, a focus window of the newest rows and keys is drawn at full size with an
// overview of the whole matrix beside it (drag in the overview or scroll to move the focus).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

const Matrix* chosen_weights(const PanelContext& c, PaneKind pane, int* query_begin) {
  const ModeTrace& m = c.sources[pane].mode();
  *query_begin = m.forward.query_begin;
  if (!m.ran || !m.forward.with_attention || c.ui->layer >= int(m.forward.layers.size())) return nullptr;
  const LayerRecord& l = m.forward.layers[c.ui->layer];
  return c.ui->head < int(l.attention.size()) ? &l.attention[c.ui->head] : nullptr;
}

// The pane's record: which keys each computed row read.
const ForwardRecord* pane_forward(const PanelContext& c, PaneKind pane) {
  const ModeTrace& m = c.sources[pane].mode();
  return m.ran ? &m.forward : nullptr;
}

// Where the grid goes and which part of it is drawn.
struct Grid {
  HeatmapView view;
  float cell = 0;    // a row's height (and a key's width when the matrix is square on screen)
  float cell_w = 0;  // a key column's width: narrower than a row when every key fits only so
  ImVec2 origin;          // top-left of the focus (or whole) picture
  float overview = 0;     // side of the overview picture (0: the whole matrix fits)
  ImVec2 overview_origin;
  float label_w = 0;
};

float min_cell_px(const PanelContext& c) { return std::max(8.0f, c.fonts->body_px * 0.55f); }  // 12 px at 1080p

Grid place_grid(const PanelContext& c, int n, ImVec2 start, ImVec2 avail) {
  const float th = ImGui::GetTextLineHeight();
  Grid g;
  for (const std::string& s : c.trace->context_texts)
    g.label_w = std::max(g.label_w, ImGui::CalcTextSize((std::to_string(n - 1) + " " + s).c_str()).x + 8);
  g.label_w = std::min(g.label_w, avail.x * 0.22f);
  const float bar_w = th * 2.2f;
  const float grid_w = std::max(8.0f, avail.x - g.label_w - bar_w), grid_h = std::max(8.0f, avail.y - th - 6);
  g.origin = ImVec2(start.x + g.label_w, start.y + th + 4);
  const float fit = std::min(grid_w, grid_h) / float(n);
  if (fit >= min_cell_px(c)) {  // the whole matrix, as large as the panel allows
    g.cell = g.cell_w = fit;
    g.view = {0, 0, n, n};
    return g;
  }
  g.overview = std::min(grid_h, std::max(th * 3.0f, grid_w * 0.22f));
  const float focus_w = grid_w - g.overview - th * 0.8f;
  const int rows = std::clamp(int(grid_h / min_cell_px(c)), 1, n);
  int cols = std::clamp(int(focus_w / min_cell_px(c)), 1, n);
  g.cell = g.cell_w = std::min(grid_h / float(rows), focus_w / float(cols));
  // Every key column, narrower than a row is tall, when that keeps a column at least half a cell: the
  // rows zoom, the keys do not, so a cache policy's sinks at 0-3 stay in view beside the newest keys.
  if (cols < n && focus_w / float(n) >= min_cell_px(c) * 0.5f) {
    cols = n;
    g.cell_w = std::min(g.cell, focus_w / float(n));
  }
  const int row_end = c.view->focus_row_end < 0 ? n : std::clamp(c.view->focus_row_end, rows, n);
  const int col_end = c.view->focus_col_end < 0 ? n : std::clamp(c.view->focus_col_end, cols, n);
  g.view = {row_end - rows, col_end - cols, rows, cols};
  g.overview_origin = ImVec2(g.origin.x + cols * g.cell_w + th * 0.8f, g.origin.y);
  return g;
}

void draw_hover(PanelContext& c, PaneKind pane, const Matrix* w, int query_begin, const Grid& g) {
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetMousePos();
  const int k = g.view.col0 + std::clamp(int((m.x - g.origin.x) / g.cell_w), 0, g.view.cols - 1);
  const int q = g.view.row0 + std::clamp(int((m.y - g.origin.y) / g.cell), 0, g.view.rows - 1);
  push_action(c, ActionType::Hover, k);
  const std::string qt = token_label(*c.trace, q), kt = token_label(*c.trace, k);
  drawn::figure("position", q, std::to_string(q));  // the tooltips below print both as %d
  drawn::figure("position", k, std::to_string(k));
  const int row = q - query_begin;
  const ForwardRecord* f = pane_forward(c, pane);
  const bool computed_here = f && row >= 0 && w && row < w->rows();
  if (k > q)
    drawn::SetTooltip("query %d %s \xE2\x86\x92 key %d %s\nmasked: a query never looks at later positions", q, qt.c_str(), k,
                      kt.c_str());
  else if (computed_here ? !f->key_read(c.ui->layer, q, k) : !c.trace->key_visible(c.ui->layer, q, k))
    drawn::SetTooltip("query %d %s \xE2\x86\x92 key %d %s\nmasked: outside the window, or evicted from the cache", q,
                      qt.c_str(), k, kt.c_str());
  else if (!w || row < 0 || row >= w->rows())
    drawn::SetTooltip("query %d %s\nnot computed in this pane this step (no Q is kept)", q, qt.c_str());
  else
    drawn::SetTooltip("query %d %s \xE2\x86\x92 key %d %s\nweight %s", q, qt.c_str(), k, kt.c_str(),
                      drawn::figure("attention_weight", (*w)(row, k), drawn::format("%.4f", double((*w)(row, k))),
                                    {{"layer", c.ui->layer}, {"head", c.ui->head}, {"query", q}, {"key", k}}).c_str());
  // Scrolling moves the focus window: rows, or keys with Shift.
  const float wheel = ImGui::GetIO().MouseWheel;
  if (wheel != 0.0f && g.overview > 0.0f) {
    const int n = c.trace->position_end, delta = wheel > 0 ? -3 : 3;
    if (ImGui::GetIO().KeyShift)
      push_focus(c, c.view->focus_row_end, std::clamp(g.view.col0 + g.view.cols + delta, g.view.cols, n));
    else
      push_focus(c, std::clamp(g.view.row0 + g.view.rows + delta, g.view.rows, n), c.view->focus_col_end);
  }
}

// Labels: key positions above the grid, query positions (with tokens) on its left.
void draw_labels(PanelContext& c, ImDrawList* dl, const Grid& g) {
  const float th = ImGui::GetTextLineHeight(), cell = g.cell_w, row_h = g.cell;
  // Key numbers never touch: the widest one plus a gap per label.
  const float number_w = ImGui::CalcTextSize(std::to_string(g.view.col0 + g.view.cols - 1).c_str()).x + th * 0.6f;
  const int every = std::max(1, int(std::ceil(std::max(th * 1.6f, number_w) / cell)));
  const int first = g.view.cols - 1 - (g.view.cols - 1) / every * every;  // so that the newest is labelled
  // Tokens beside the numbers only when every label has room for its own: one short token ("7 ,")
  // among bare numbers reads as a stray mark.
  std::vector<std::string> labelled;
  bool tokens_fit = true;
  for (int i = first; i < g.view.cols; i += every) {
    const int k = g.view.col0 + i;
    labelled.push_back(std::to_string(k) + " " + drawn::figure("token", k, c.trace->context_texts[k]));
    tokens_fit = tokens_fit && ImGui::CalcTextSize(labelled.back().c_str()).x < cell * every - 4;
  }
  for (int i = first, n = 0; i < g.view.cols; i += every, ++n) {
    const int k = g.view.col0 + i;
    drawn::figure("position", k, std::to_string(k));  // an axis label: the key's position
    const std::string s = tokens_fit ? labelled[std::size_t(n)] : std::to_string(k);
    const float w = ImGui::CalcTextSize(s.c_str()).x;
    const ImU32 col = k == c.view->hover_position ? c.pal->newest : c.pal->text;
    const float x = std::min(g.origin.x + cell * (i + 0.5f) - w * 0.5f, g.origin.x + cell * g.view.cols - w);  // not past the grid
    drawn::AddText(dl, ImVec2(x, g.origin.y - th - 2), col, s.c_str());
  }
  const int every_row = std::max(1, int(std::ceil(th / row_h)));
  for (int i = g.view.rows - 1; i >= 0; i -= every_row) {  // the newest row always labelled
    const int q = g.view.row0 + i;
    std::string s = drawn::figure("position", q, std::to_string(q)) + " " + drawn::figure("token", q, c.trace->context_texts[q]);
    while (s.size() > 3 && ImGui::CalcTextSize(s.c_str()).x > g.label_w - 6) s.pop_back();
    const float w = ImGui::CalcTextSize(s.c_str()).x;
    const ImU32 col = q == c.view->hover_position ? c.pal->newest : c.pal->text;
    drawn::AddText(dl, ImVec2(g.origin.x - w - 6, g.origin.y + row_h * (i + 0.5f) - th * 0.5f), col, s.c_str());
  }
}

// The whole matrix, small, with the focus window outlined; a click or drag there moves the focus.
void draw_overview(PanelContext& c, PaneKind pane, const HeatmapRequest& request, HeatmapRenderer& renderer,
                   const Grid& g) {
  const int n = request.n_positions;
  const float side = g.overview, th = ImGui::GetTextLineHeight();
  const int px = std::max(1, int(std::lround(side * ImGui::GetIO().DisplayFramebufferScale.x)));
  const GLuint texture = renderer.render(request, HeatmapView{0, 0, n, n}, px, px, c.pal->heat, HeatmapRenderer::kOverview);
  ImGui::SetCursorScreenPos(g.overview_origin);
  ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture)), ImVec2(side, side), ImVec2(0, 1),
               ImVec2(1, 0));
  ImGui::SetCursorScreenPos(g.overview_origin);
  ImGui::InvisibleButton("overview", ImVec2(side, side));
  if (ImGui::IsItemActive()) {  // centre the focus where the pointer is
    const ImVec2 m = ImGui::GetMousePos();
    const float fx = (m.x - g.overview_origin.x) / side * n, fy = (m.y - g.overview_origin.y) / side * n;
    push_focus(c, std::clamp(int(fy + g.view.rows * 0.5f), g.view.rows, n), std::clamp(int(fx + g.view.cols * 0.5f), g.view.cols, n));
  } else if (ImGui::IsItemHovered()) {
    drawn::SetTooltip("all %s \xC3\x97 %s: drag to move the focus (scroll over the focus: rows; Shift: keys)",
                      drawn::figure("positions", n, std::to_string(n)).c_str(), drawn::figure("positions", n, std::to_string(n)).c_str());
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float s = side / float(n);
  const ImVec2 a(g.overview_origin.x + g.view.col0 * s, g.overview_origin.y + g.view.row0 * s);
  const ImVec2 b(a.x + g.view.cols * s, a.y + g.view.rows * s);
  dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), c.pal->panel, 0, 0, 4.0f);
  dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), c.pal->text, 0, 0, 2.0f);
  char title[32];
  std::snprintf(title, sizeof title, "all %s", drawn::figure("positions", n, std::to_string(n)).c_str());
  drawn::AddText(dl, ImVec2(g.overview_origin.x, g.overview_origin.y - th - 2), c.pal->text, title);
  c.record->pane_rect("heatmap_overview", pane, {g.overview_origin.x, g.overview_origin.y,
                                                 g.overview_origin.x + side, g.overview_origin.y + side});
}

const char* pane_story(const PanelContext& c, PaneKind pane) {
  if (c.trace->prefill && c.trace->position_begin > 0)
    return c.sources[pane].cached ? "prefill: the new query rows" : "every query row recomputed";
  if (c.trace->prefill) return "prefill: every prompt query row";
  return c.sources[pane].cached ? "only the new query row" : "every query row recomputed";
}

}  // namespace

void draw_attention_panel(PanelContext& c, PaneKind pane, HeatmapRenderer& renderer, float) {
  const drawn::PanelScope scope(c.record, "attention");
  ImGui::PushFont(c.fonts->title);
  drawn::Text("Attention, %s %s", drawn::figure("layer", c.ui->layer, "layer " + std::to_string(c.ui->layer)).c_str(),
              drawn::figure("head", c.ui->head, "head " + std::to_string(c.ui->head)).c_str());
  ImGui::PopFont();
  if (!c.trace) {
    drawn::TextWrapped("query \xC3\x97 key by position; appears after step 0.");
    return;
  }
  int query_begin = 0;
  const Matrix* w = chosen_weights(c, pane, &query_begin);
  const int n = c.trace->position_end;
  const ModeTrace& mode = c.sources[pane].mode();
  const bool pooled = mode.ran && c.ui->layer < int(mode.forward.layers.size()) &&
                      !mode.forward.layers[std::size_t(c.ui->layer)].pooled.empty();
  const int n_rows = w ? int(w->rows()) : pooled ? mode.forward.key_end - mode.forward.query_begin : 0;
  char story[128];
  nlohmann::json rows_context = pane_context(c, pane);
  rows_context["layer"] = c.ui->layer;
  std::snprintf(story, sizeof story, "%s: %s \xC3\x97 %s", pane_story(c, pane),
                drawn::figure("query_rows", n_rows, std::to_string(n_rows), rows_context).c_str(),
                drawn::figure("positions", n, std::to_string(n)).c_str());
  const char* key = " \xC2\xB7 hatched: masked \xC2\xB7 outlined: computed now";
  if (ImGui::CalcTextSize(story).x + ImGui::CalcTextSize(key).x < ImGui::GetContentRegionAvail().x)
    std::snprintf(story + std::strlen(story), sizeof story - std::strlen(story), "%s", key);
  drawn::TextUnformatted(story);
  if (ImGui::IsItemHovered()) drawn::SetTooltip("hatched: masked (a later key) \xC2\xB7 outlined: rows computed now");
  if (pooled) return draw_pooled_attention(c, pane, renderer, mode);
  if (!w) {
    drawn::TextUnformatted("attention was not recorded for this step");
    return;
  }
  const float th = ImGui::GetTextLineHeight();
  const Grid g = place_grid(c, n, ImGui::GetCursorScreenPos(), ImGui::GetContentRegionAvail());
  HeatmapRequest request;
  request.data_key = c.trace_version * 4096u + std::uint64_t(c.ui->layer) * 64u + std::uint64_t(c.ui->head);
  request.weights = w;
  request.n_positions = n;
  request.query_begin = query_begin;
  request.forward = pane_forward(c, pane);
  request.layer = c.ui->layer;
  const float img_w = g.cell_w * g.view.cols, img_h = g.cell * g.view.rows;
  const float scale = ImGui::GetIO().DisplayFramebufferScale.x;
  const GLuint texture = renderer.render(request, g.view, std::max(1, int(std::lround(img_w * scale))),
                                         std::max(1, int(std::lround(img_h * scale))), c.pal->heat);
  ImGui::SetCursorScreenPos(g.origin);
  ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture)), ImVec2(img_w, img_h), ImVec2(0, 1),
               ImVec2(1, 0));
  const ImVec2 o = g.origin;
  c.record->pane_rect("heatmap", pane, {o.x, o.y, o.x + img_w, o.y + img_h});
  c.record->pane_value("heatmap_cells", pane, {g.view.rows, g.view.cols});
  c.record->pane_value("heatmap_cell_px", pane, g.cell);    // a row's height
  c.record->pane_value("heatmap_key_px", pane, g.cell_w);   // a key column's width
  draw_hover(c, pane, w, query_begin, g);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  draw_labels(c, dl, g);
  // Rows computed this step, outlined (the part inside the focus).
  const int r0 = std::max(query_begin, g.view.row0), r1 = std::min(query_begin + n_rows, g.view.row0 + g.view.rows);
  if (r1 > r0)
    dl->AddRect(ImVec2(o.x - 2, o.y + g.cell * (r0 - g.view.row0) - 2), ImVec2(o.x + img_w + 2, o.y + g.cell * (r1 - g.view.row0) + 2),
                c.pal->outline, 0, 0, 3.0f);
  const float above = g.cell * float(std::min(query_begin, g.view.row0 + g.view.rows) - g.view.row0);
  if (above >= th * 1.5f) {  // the rows a cached step never computes
    const char* note = "no Q kept for earlier rows";
    const ImVec2 size = ImGui::CalcTextSize(note);
    if (size.x < img_w - 8) drawn::AddText(dl, ImVec2(o.x + (img_w - size.x) * 0.5f, o.y + (above - size.y) * 0.5f), c.pal->text, note);
  }
  const int hk = c.view->hover_position - g.view.col0;
  if (hk >= 0 && hk < g.view.cols) {
    const float x = o.x + g.cell_w * hk;
    dl->AddRect(ImVec2(x, o.y), ImVec2(x + g.cell_w, o.y + img_h), c.pal->text, 0, 0, 2.0f);
  }
  float right = o.x + img_w;
  if (g.overview > 0.0f) {
    draw_overview(c, pane, request, renderer, g);
    right = g.overview_origin.x + g.overview;
  }
  draw_weight_scale(c, dl, ImVec2(right + th * 0.6f, o.y), g.overview > 0.0f ? g.overview : img_h);
}

}  // namespace kvscope::gui
