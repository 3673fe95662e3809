// Caption: the step's one-line story written from its trace, the agreement badge (max |Δlogit|
// between the modes) and the lesson's teacher note for the step.
#include "gui/caption.h"
#include "gui/panels.h"

namespace kvscope::gui {

namespace {

void draw_badge(PanelContext& c, const Caption& cap) {
  const ImVec2 size = ImGui::CalcTextSize(cap.badge.c_str());
  const float pad = ImGui::GetStyle().FramePadding.x;
  const float x = ImGui::GetWindowContentRegionMax().x - size.x - 2 * pad;
  ImGui::SameLine(x > ImGui::GetCursorPosX() ? x : 0.0f);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const ImU32 color = cap.modes_agree ? c.pal.good : c.pal.bad;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRect(ImVec2(p.x - pad, p.y - 1), ImVec2(p.x + size.x + pad, p.y + size.y + 1), color, 4.0f, 0, 2.0f);
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextUnformatted(cap.badge.c_str());
  ImGui::PopStyleColor();
}

}  // namespace

void draw_caption_panel(PanelContext& c) {
  if (!c.trace) {
    ImGui::PushFont(c.fonts.title);
    std::string prompt;
    for (const std::string& t : c.prompt_texts) prompt += (prompt.empty() ? "" : " ") + t;
    ImGui::TextWrapped("Ready \xE2\x80\x94 press Space (or Step) to run step 0: prefill of %s", quoted(prompt).c_str());
    ImGui::PopFont();
    ImGui::TextWrapped("Prefill feeds the whole prompt at once and writes its K and V rows into the cache; "
                       "every later step (decode) feeds one token and adds one row per layer.");
    if (!c.lesson.summary.empty()) ImGui::TextWrapped("%s", c.lesson.summary.c_str());
    return;
  }
  const Caption cap = make_caption(*c.trace);
  ImGui::PushFont(c.fonts.title);
  ImGui::TextUnformatted(cap.title.c_str());
  ImGui::PopFont();
  draw_badge(c, cap);
  ImGui::TextWrapped("%s", cap.uncached.c_str());
  ImGui::TextWrapped("%s", cap.cached.c_str());
  const int s = c.trace->step;
  if (s < int(c.lesson.steps.size())) {
    const LessonStep& ls = c.lesson.steps[s];
    if (!ls.caption.empty()) ImGui::TextWrapped("%s", ls.caption.c_str());
    if (!ls.note.empty()) ImGui::TextDisabled("Note: %s", ls.note.c_str());
  }
}

}  // namespace kvscope::gui
