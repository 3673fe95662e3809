// Token strip: every position with its token and id, the newest highlighted, then the token chosen
// next and the model's five most likely next tokens. Hovering a token highlights its position.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

std::string token_meta(int position, const std::string& text, int id) {
  char meta[48];
  if (id >= 0 && text != "#" + std::to_string(id))
    std::snprintf(meta, sizeof meta, "%d \xC2\xB7 #%d", position, id);
  else
    std::snprintf(meta, sizeof meta, "%d", position);
  return meta;
}

// Width of a token box plus the spacing after it.
float token_box_width(int position, const std::string& text, int id) {
  const float a = ImGui::CalcTextSize(text.c_str()).x, b = ImGui::CalcTextSize(token_meta(position, text, id).c_str()).x;
  return std::max(a, b) + 2 * ImGui::GetStyle().FramePadding.x + ImGui::GetStyle().ItemSpacing.x;
}

// One token box: text on the first line, "pos · id" on the second. Returns false if it did not fit.
// rolled_back: a speculative guess the target rejected this step: struck through, its row taken back.
bool token_box(PanelContext& c, int position, const std::string& text, int id, bool newest, float max_x,
               bool rolled_back = false) {
  const std::string meta = token_meta(position, text, id);
  const ImVec2 a = ImGui::CalcTextSize(text.c_str()), b = ImGui::CalcTextSize(meta.c_str());
  const float pad = ImGui::GetStyle().FramePadding.x;
  const float lh = ImGui::GetTextLineHeight();
  const ImVec2 size(std::max(a.x, b.x) + 2 * pad, 2 * lh + 2 * ImGui::GetStyle().FramePadding.y);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  if (p.x + size.x > max_x) return false;
  ImGui::InvisibleButton(("tok" + std::to_string(position)).c_str(), size);
  hover_position_if_item_hovered(c, position);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 q(p.x + size.x, p.y + size.y);
  if (c.view->hover_position == position) dl->AddRectFilled(p, q, c.pal->hover, 4.0f);
  dl->AddRect(p, q, newest ? c.pal->newest : c.pal->border, 4.0f, 0, newest ? 3.0f : 1.0f);
  drawn::figure("position", position, std::to_string(position));  // meta: "position · #id"
  if (id >= 0) drawn::figure("token_id", id, "#" + std::to_string(id));
  drawn::AddText(dl, ImVec2(p.x + pad, p.y + ImGui::GetStyle().FramePadding.y), c.pal->text, drawn::figure("token", position, text));
  drawn::AddText(dl, ImVec2(p.x + pad, p.y + ImGui::GetStyle().FramePadding.y + lh), c.pal->text_muted, meta.c_str());
  if (rolled_back) {
    const float y = p.y + ImGui::GetStyle().FramePadding.y + lh * 0.55f;
    dl->AddLine(ImVec2(p.x + pad, y), ImVec2(q.x - pad, y), c.pal->row[int(RowKind::RolledBack)], 2.0f);
  }
  ImGui::SameLine();
  return true;
}

}  // namespace

void draw_tokens_panel(PanelContext& c) {
  const drawn::PanelScope scope(c.record, "tokens");
  const float max_x = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  if (!c.trace) {
    for (int p = 0; p < int(c.prompt_texts->size()); ++p)
      if (!token_box(c, p, (*c.prompt_texts)[p], -1, false, max_x)) break;
    ImGui::NewLine();
    return;
  }
  const StepTrace& t = *c.trace;
  const int n = int(t.context_texts.size());
  const std::string next = "next \xE2\x86\x92 " + drawn::figure("token", t.next_id, quoted(t.next_text)) +
                           (t.forced ? " (teacher-forced)" : " (model's choice)");
  std::string top = "model's " + drawn::figure("top_k", double(t.top.size()), "top " + std::to_string(t.top.size())) + ":";
  for (const TokenProbability& tp : t.top)
    top += "  " + drawn::figure("token", tp.id, quoted(tp.text)) + " " +
           drawn::figure("probability", tp.probability, format_percent(tp.probability), {{"token_id", tp.id}});
  // Long sequences: the newest positions that fit beside the next/top group (the strip is for
  // orientation, not a list); the group itself is never cut.
  const float group_w = std::max(ImGui::CalcTextSize(next.c_str()).x, ImGui::CalcTextSize(top.c_str()).x);
  const float earlier_w = ImGui::CalcTextSize("\xE2\x80\xA6 000 earlier").x + ImGui::GetStyle().ItemSpacing.x;
  const float room = max_x - ImGui::GetCursorScreenPos().x - group_w;
  std::vector<float> widths(static_cast<std::size_t>(n));
  float all = 0.0f;
  for (int p = 0; p < n; ++p) all += (widths[std::size_t(p)] = token_box_width(p, t.context_texts[p], t.context_ids[p]));
  int first = 0;
  if (all > room) {  // not all fit: the "… N earlier" label takes its room too
    float width = 0.0f;
    first = n;
    while (first > 0 && (width + widths[std::size_t(first - 1)] <= room - earlier_w || first == n)) width += widths[std::size_t(--first)];
  }
  if (first > 0) {
    ImGui::AlignTextToFramePadding();
    drawn::Text("\xE2\x80\xA6 %s earlier", drawn::figure("positions", first, std::to_string(first), {{"scope", "not shown"}}).c_str());
    ImGui::SameLine();
  }
  const std::vector<int>& rolled_back = t.cached.rolled_back;
  for (int p = first; p < n; ++p)
    if (!token_box(c, p, t.context_texts[p], t.context_ids[p], p == t.newest_position(), max_x,
                   std::find(rolled_back.begin(), rolled_back.end(), p) != rolled_back.end()))
      break;
  ImGui::BeginGroup();
  drawn::TextUnformatted(next.c_str());
  drawn::TextUnformatted(top.c_str());
  ImGui::EndGroup();
  ImGui::NewLine();
}

}  // namespace kvscope::gui
