// Attention heatmap, query x key by position, for the chosen layer and head: drawn by the colormap
// shader (HeatmapRenderer); masked future cells hatched; the query rows computed this step outlined
// (all of them without a cache, only the newest with one); token labels on both axes; the exact
// weight and both tokens on hover.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gui/panels.h"

namespace kvscope::gui {

namespace {

const Matrix* chosen_weights(const PanelContext& c, PaneKind pane, int* query_begin) {
  const ModeTrace& m = mode_trace(*c.trace, pane);
  *query_begin = m.forward.query_begin;
  if (!m.ran || !m.forward.with_attention || c.ui->layer >= int(m.forward.layers.size())) return nullptr;
  const LayerRecord& l = m.forward.layers[c.ui->layer];
  return c.ui->head < int(l.attention.size()) ? &l.attention[c.ui->head] : nullptr;
}

// The keys each computed row of the pane could see, as recorded.
const std::vector<KeySpan>* visible_keys(const PanelContext& c, PaneKind pane) {
  const ModeTrace& m = mode_trace(*c.trace, pane);
  if (!m.ran || c.ui->layer >= int(m.forward.layers.size())) return nullptr;
  return &m.forward.layers[c.ui->layer].visible_keys;
}

void draw_hover(PanelContext& c, const Matrix* w, int query_begin, ImVec2 origin, float cell, int n) {
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetMousePos();
  const int k = std::clamp(int((m.x - origin.x) / cell), 0, n - 1);
  const int q = std::clamp(int((m.y - origin.y) / cell), 0, n - 1);
  c.ui->next_hover_position = k;
  const std::string qt = token_label(*c.trace, q), kt = token_label(*c.trace, k);
  const int row = q - query_begin;
  if (!c.trace->key_visible(c.ui->layer, q, k))
    ImGui::SetTooltip("query %d %s \xE2\x86\x92 key %d %s\nmasked: a query never looks at later positions", q, qt.c_str(), k,
                      kt.c_str());
  else if (!w || row < 0 || row >= w->rows())
    ImGui::SetTooltip("query %d %s\nnot computed in this pane this step (no Q is kept)", q, qt.c_str());
  else
    ImGui::SetTooltip("query %d %s \xE2\x86\x92 key %d %s\nweight %.4f", q, qt.c_str(), k, kt.c_str(), (*w)(row, k));
}

// Labels: key positions above the grid, query positions (with tokens) on its left.
void draw_labels(PanelContext& c, ImDrawList* dl, ImVec2 origin, float cell, int n, float label_w) {
  const float th = ImGui::GetTextLineHeight();
  const int every = std::max(1, int(std::ceil(th * 1.6f / cell)));
  for (int k = 0; k < n; k += every) {
    std::string s = std::to_string(k);
    const std::string tok = c.trace->context_texts[k];
    if (ImGui::CalcTextSize((s + " " + tok).c_str()).x < cell * every - 4) s += " " + tok;
    const float w = ImGui::CalcTextSize(s.c_str()).x;
    const ImU32 col = k == c.ui->hover_position ? c.pal->newest : c.pal->text;
    dl->AddText(ImVec2(origin.x + cell * (k + 0.5f) - w * 0.5f, origin.y - th - 2), col, s.c_str());
  }
  const int every_row = std::max(1, int(std::ceil(th / cell)));
  for (int q = 0; q < n; q += every_row) {
    std::string s = std::to_string(q) + " " + c.trace->context_texts[q];
    while (s.size() > 3 && ImGui::CalcTextSize(s.c_str()).x > label_w - 6) s.pop_back();
    const float w = ImGui::CalcTextSize(s.c_str()).x;
    const ImU32 col = q == c.ui->hover_position ? c.pal->newest : c.pal->text;
    dl->AddText(ImVec2(origin.x - w - 6, origin.y + cell * (q + 0.5f) - th * 0.5f), col, s.c_str());
  }
}

}  // namespace

void draw_attention_panel(PanelContext& c, PaneKind pane, HeatmapRenderer& renderer, float) {
  ImGui::PushFont(c.fonts->title);
  ImGui::Text("Attention, layer %d head %d", c.ui->layer, c.ui->head);
  ImGui::PopFont();
  if (!c.trace) {
    ImGui::TextWrapped("query \xC3\x97 key by position; appears after step 0.");
    return;
  }
  int query_begin = 0;
  const Matrix* w = chosen_weights(c, pane, &query_begin);
  const int n = c.trace->position_end;
  const int n_rows = w ? int(w->rows()) : 0;
  if (c.trace->prefill && c.trace->position_begin > 0)
    ImGui::TextWrapped(pane == PaneKind::Cached ? "Prefill: the new tokens' query rows only: %d \xC3\x97 %d"
                            : "Every query row recomputed: %d \xC3\x97 %d", n_rows, n);
  else if (c.trace->prefill)
    ImGui::TextWrapped("Prefill: every prompt query row computed: %d \xC3\x97 %d", n_rows, n);
  else if (pane == PaneKind::Cached)
    ImGui::TextWrapped("Only the new query's row is computed: %d \xC3\x97 %d", n_rows, n);
  else
    ImGui::TextWrapped("Every query row recomputed: %d \xC3\x97 %d", n_rows, n);
  ImGui::TextDisabled("hatched: masked (later key) \xC2\xB7 outlined: computed now");
  if (!w) {
    ImGui::TextUnformatted("attention was not recorded for this step");
    return;
  }
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  float label_w = 0.0f;
  for (const std::string& s : c.trace->context_texts)
    label_w = std::max(label_w, ImGui::CalcTextSize((std::to_string(n - 1) + " " + s).c_str()).x + 8);
  label_w = std::min(label_w, avail.x * 0.28f);
  const float side = std::max(8.0f, std::min(avail.x - label_w - th * 2.5f, avail.y - th * 1.5f - 4));
  const float cell = side / float(n);
  const ImVec2 start = ImGui::GetCursorScreenPos();
  const ImVec2 origin(start.x + label_w, start.y + th + 4);
  HeatmapRequest request;
  request.data_key = c.trace_version * 4096u + std::uint64_t(c.ui->layer) * 64u + std::uint64_t(c.ui->head);
  request.weights = w;
  request.n_positions = n;
  request.query_begin = query_begin;
  request.visible_keys = visible_keys(c, pane);
  const int px = std::max(1, int(std::lround(side * ImGui::GetIO().DisplayFramebufferScale.x)));
  const GLuint texture = renderer.render(request, px, px, c.pal->heat);
  ImGui::SetCursorScreenPos(origin);
  ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture)), ImVec2(side, side), ImVec2(0, 1),
               ImVec2(1, 0));
  c.rects->heatmap[pane] = {origin.x, origin.y, origin.x + side, origin.y + side};
  draw_hover(c, w, query_begin, origin, cell, n);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  draw_labels(c, dl, origin, cell, n, label_w);
  // Rows computed this step, outlined.
  dl->AddRect(ImVec2(origin.x - 2, origin.y + cell * query_begin - 2),
              ImVec2(origin.x + side + 2, origin.y + cell * (query_begin + n_rows) + 2), c.pal->outline, 0, 0, 3.0f);
  if (query_begin > 0 && cell * query_begin >= th * 1.5f) {  // the rows a cached step never computes
    const char* note = "no Q kept for earlier rows";
    const ImVec2 size = ImGui::CalcTextSize(note);
    if (size.x < side - 8)
      dl->AddText(ImVec2(origin.x + (side - size.x) * 0.5f, origin.y + (cell * query_begin - size.y) * 0.5f), c.pal->text,
                  note);
  }
  if (c.ui->hover_position >= 0 && c.ui->hover_position < n) {
    const float x = origin.x + cell * c.ui->hover_position;
    dl->AddRect(ImVec2(x, origin.y), ImVec2(x + cell, origin.y + side), c.pal->text, 0, 0, 2.0f);
  }
  // Colour bar 0..1 on the right.
  const ImVec2 bar(origin.x + side + th * 0.6f, origin.y);
  const float bar_h = std::min(side, th * 6.0f);
  for (int i = 0; i < 32; ++i)
    dl->AddRectFilled(ImVec2(bar.x, bar.y + bar_h * (31 - i) / 32), ImVec2(bar.x + th * 0.6f, bar.y + bar_h * (32 - i) / 32 + 1),
                      viridis(i / 31.0f));
  dl->AddText(ImVec2(bar.x, bar.y + bar_h + 2), c.pal->text, "0");
  dl->AddText(ImVec2(bar.x, bar.y - th - 2), c.pal->text, "1");
}

}  // namespace kvscope::gui
