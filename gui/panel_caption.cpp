// Caption: the step's one-line story written from its trace, the agreement badge (max |Δlogit|
// between the modes) and the lesson's teacher note for the step.
#include <string>
#include <vector>

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

// A step running on the worker thread: say which, and how long it has been running (a spinner shows
// the window is alive; nothing else moves).
void draw_busy(PanelContext& c) {
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float a = float(c.busy_seconds) * 6.0f;
  dl->PathArcTo(ImVec2(p.x + th * 0.5f, p.y + th * 0.6f), th * 0.4f, a, a + 4.5f, 16);
  dl->PathStroke(c.pal.newest, 0, 3.0f);
  ImGui::Dummy(ImVec2(th * 1.2f, th));
  ImGui::SameLine();
  ImGui::PushFont(c.fonts.title);
  ImGui::Text("Computing step %d\xE2\x80\xA6 %.1f s (both modes, off the UI thread)", c.busy_step, c.busy_seconds);
  ImGui::PopFont();
}

std::string prompt_summary(const std::vector<std::string>& texts) {
  std::string s;
  const int n = int(texts.size());
  for (int i = 0; i < n; ++i) {
    if (n > 8 && i == 4) {
      s += " \xE2\x80\xA6 " + std::to_string(n - 6) + " more \xE2\x80\xA6";
      i = n - 2;
    }
    s += (s.empty() ? "" : " ") + texts[i];
  }
  return s;
}

}  // namespace

void draw_caption_panel(PanelContext& c) {
  if (c.busy) draw_busy(c);
  if (!c.trace) {
    ImGui::PushFont(c.fonts.title);
    const std::string prompt = prompt_summary(c.prompt_texts);
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
  if (c.busy) return;  // the banner above takes the sentences' room while the next step runs
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
