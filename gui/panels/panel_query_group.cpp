// GQA, seen from the cache (View menu, G; the fewer_kv_heads lesson): the query heads that share the
// chosen KV head, side by side. One row per K/V row the newest query read, its K strip drawn once, and
// for each query head of the group a bar with the weight that head gave it: the same rows, read
// differently. Everything comes from core/lessons/query_group.h; this file lays it out.
#include <algorithm>
#include <string>

#include "core/lessons/query_group.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

const RowView* cached_row(const PanelContext& c, int position) {
  const PaneView* pane = c.panes[PaneKind::Cached];
  if (!pane) return nullptr;
  for (const RowView& r : pane->rows)
    if (r.position == position) return &r;
  return nullptr;
}

}  // namespace

bool query_group_view_available(const PanelContext& c) {
  return c.trace && c.config && c.config->kv_heads() < c.config->n_head && !c.config->mla();
}

void draw_query_group_panel(PanelContext& c, float height) {
  const drawn::PanelScope scope(c.record, "query_group");
  const int kv_head = c.trace->kv_head_of(c.ui->head);
  const QueryGroupReads g = query_group_reads(*c.trace, c.ui->layer, kv_head);
  if (!g.available) {
    drawn::TextWrapped("The cached pane recorded no attention for this step: nothing to show.");
    return;
  }
  drawn::figures(g.figures);
  ImGui::PushFont(c.fonts->title);
  drawn::TextWrapped("%s", g.title.c_str());
  ImGui::PopFont();
  const float th = ImGui::GetTextLineHeight(), lh = line_height();
  const float w = ImGui::GetContentRegionAvail().x;
  const float pos_w = ImGui::CalcTextSize("0000 ").x, token_w = ImGui::CalcTextSize("'tokens' ").x;
  const float strip_w = std::min(w * 0.25f, th * 12.0f);
  const float gap = th * 0.8f;
  const int n_heads = int(g.heads.size());
  const float head_w = (w - pos_w - token_w - strip_w - gap * float(n_heads + 1)) / float(std::max(1, n_heads));
  const float number_w = ImGui::CalcTextSize("0.000 ").x;
  // Column titles.
  const float x0 = ImGui::GetCursorPosX();
  drawn::TextDisabled("pos");
  ImGui::SameLine(x0 + pos_w);
  drawn::TextDisabled("token");
  ImGui::SameLine(x0 + pos_w + token_w);
  drawn::TextDisabled("K (shared)");
  for (int i = 0; i < n_heads; ++i) {
    ImGui::SameLine(x0 + pos_w + token_w + strip_w + gap * float(i + 1) + head_w * float(i));
    drawn::TextDisabled("query head %s reads", drawn::figure("head", g.heads[std::size_t(i)].head,
                                                             std::to_string(g.heads[std::size_t(i)].head)).c_str());
  }
  // The rows that fit, newest last (a long context shows its newest rows and says how many are left out).
  const float footer = lh * 2.0f;
  const int fit = std::max(1, int((ImGui::GetContentRegionAvail().y - footer) / lh));
  const int n = int(g.positions.size());
  const int first = std::max(0, n - fit);
  float scale = 0.0f;
  const int d_head = c.config->d_head();
  for (int i = first; i < n; ++i)
    if (const RowView* r = cached_row(c, g.positions[std::size_t(i)]); r && r->key)
      scale = std::max(scale, max_abs(r->key + kv_head * d_head, d_head));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (int i = first; i < n; ++i) {
    const int position = g.positions[std::size_t(i)];
    const ImVec2 p = ImGui::GetCursorScreenPos();
    drawn::AddText(dl, p, c.pal->text, drawn::figure("position", position, std::to_string(position)));
    const ImVec4 clip(p.x + pos_w, p.y, p.x + pos_w + token_w - th * 0.3f, p.y + lh);
    drawn::AddText(dl, nullptr, 0.0f, ImVec2(p.x + pos_w, p.y), c.pal->text, token_label(*c.trace, position).c_str(), 0.0f, &clip);
    const RowView* r = cached_row(c, position);
    draw_value_strip(c, dl, ImVec2(p.x + pos_w + token_w, p.y + th * 0.1f), ImVec2(strip_w, th * 0.8f),
                     r && r->key ? r->key + kv_head * d_head : nullptr, d_head, scale, false);
    for (int h = 0; h < n_heads; ++h) {
      const QueryHeadReads& reads = g.heads[std::size_t(h)];
      const float weight = reads.weights[std::size_t(i)];
      const float x = p.x + pos_w + token_w + strip_w + gap * float(h + 1) + head_w * float(h);
      const float bar_max = std::max(th, head_w - number_w);
      const ImVec2 a(x, p.y + th * 0.15f), b(x + bar_max * std::clamp(weight, 0.0f, 1.0f), p.y + th * 0.85f);
      dl->AddRect(a, ImVec2(x + bar_max, b.y), c.pal->border);  // the bar's full length is weight 1
      dl->AddRectFilled(a, ImVec2(std::max(b.x, a.x + 1.0f), b.y), c.pal->series_cached);
      drawn::AddText(dl, ImVec2(x + bar_max + th * 0.3f, p.y), c.pal->text,
                     drawn::figure("attention_weight", weight, drawn::format("%.3f", double(weight)),
                                   {{"layer", g.layer}, {"head", reads.head}, {"query", g.query_position}, {"key", position}}));
    }
    ImGui::Dummy(ImVec2(w, lh - ImGui::GetStyle().ItemSpacing.y));
  }
  if (first > 0)
    drawn::TextDisabled("\xE2\x80\xA6 %s earlier rows not shown", drawn::figure("positions", first, std::to_string(first), {{"scope", "not shown"}}).c_str());
  std::string sums;
  for (const QueryHeadReads& reads : g.heads)
    sums += (sums.empty() ? "" : ", ") + drawn::figure("weight_sum", reads.weight_sum, drawn::format("%.3f", reads.weight_sum), {{"head", reads.head}});
  drawn::TextWrapped("Each head's weights sum to %s over the same rows; the largest difference between two heads on one row: %s.",
                     sums.c_str(), drawn::figure("max_weight_gap", g.max_weight_gap, drawn::format("%.3f", g.max_weight_gap)).c_str());
  (void)height;
}

}  // namespace kvscope::gui
