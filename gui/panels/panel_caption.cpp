// Caption: the step's story written from its trace, the agreement badge (max |Δlogit| between the
// modes) and the lesson's lines computed from the traces (core/lessons/lesson_report.h); their details
// too unless a lesson view below draws them (CaptionView, built by the App when the step changes).
// (The teacher's note is in the sidebar.)
// caption_content_height() measures exactly what draw_caption_panel() draws, so the box fits it.
#include <string>
#include <vector>

#include "gui/views/caption.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

const char* const kBullet = "\xE2\x96\xB8";  // ▸

void draw_badge(PanelContext& c, const Caption& cap) {
  const ImVec2 size = ImGui::CalcTextSize(cap.badge.c_str());
  const float pad = ImGui::GetStyle().FramePadding.x;
  const float x = ImGui::GetWindowContentRegionMax().x - size.x - 2 * pad;
  ImGui::SameLine(x > ImGui::GetCursorPosX() ? x : 0.0f);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const ImU32 color = cap.modes_agree ? c.pal->good : cap.lossy ? c.pal->text : c.pal->bad;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRect(ImVec2(p.x - pad, p.y - 1), ImVec2(p.x + size.x + pad, p.y + size.y + 1), color, 4.0f, 0, 2.0f);
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  drawn::TextUnformatted(cap.badge.c_str());
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
  dl->PathStroke(c.pal->newest, 0, 3.0f);
  ImGui::Dummy(ImVec2(th * 1.2f, th));
  ImGui::SameLine();
  ImGui::PushFont(c.fonts->title);
  drawn::Text("Computing step %d\xE2\x80\xA6 %.1f s (both modes, off the UI thread)", c.busy_step, c.busy_seconds);
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

std::string ready_title(const PanelContext& c) {
  if (c.prompt_texts->empty()) return "Nothing to run yet \xE2\x80\x94 type a prompt this model can read, then Restart";
  return "Ready \xE2\x80\x94 press Space (or Step) to run step 0: prefill of " + quoted(prompt_summary(*c.prompt_texts));
}
const char* const kReadyText = "Prefill feeds the whole prompt at once and writes its K and V rows into the cache; "
                               "every later step (decode) feeds one token and adds one row per layer.";

float wrapped(const std::string& text, float width) {
  return ImGui::CalcTextSize(text.c_str(), nullptr, false, width).y + ImGui::GetStyle().ItemSpacing.y;
}

}  // namespace

float caption_content_height(PanelContext& c, float width) {
  const float bullet_w = ImGui::CalcTextSize(kBullet).x + ImGui::GetStyle().ItemSpacing.x;
  float h = 0.0f;
  if (c.busy) h += ImGui::GetTextLineHeightWithSpacing() * 1.2f;
  ImGui::PushFont(c.fonts->title);
  if (!c.trace) {
    h += wrapped(ready_title(c), width);
    ImGui::PopFont();
    h += wrapped(kReadyText, width);
    if (!c.lesson->summary.empty()) h += wrapped(c.lesson->summary, width);
    return h;
  }
  h += ImGui::GetTextLineHeightWithSpacing();  // the title and badge share one line
  ImGui::PopFont();
  if (c.busy) return h;
  for (const Paragraph& p : c.caption->paragraphs)
    h += wrapped(p.text, p.kind == ParagraphKind::LessonLine ? width - bullet_w : width);
  return h;
}

void draw_caption_panel(PanelContext& c) {
  const drawn::PanelScope scope(c.record, "caption");
  const ImVec2 wp = ImGui::GetWindowPos(), ws = ImGui::GetWindowSize();
  c.record->rect("caption_box", {wp.x, wp.y, wp.x + ws.x, wp.y + ws.y});
  if (c.busy) draw_busy(c);
  if (!c.trace) {
    ImGui::PushFont(c.fonts->title);
    drawn::TextWrapped("%s", ready_title(c).c_str());
    ImGui::PopFont();
    drawn::TextWrapped("%s", kReadyText);
    if (!c.lesson->summary.empty()) drawn::TextWrapped("%s", c.lesson->summary.c_str());
  } else {
    const Caption& cap = c.caption->caption;
    drawn::figures(c.caption->figures);
    ImGui::PushFont(c.fonts->title);
    drawn::TextUnformatted(cap.title.c_str());
    ImGui::PopFont();
    draw_badge(c, cap);
    if (!c.busy) {  // the banner above takes the sentences' room while the next step runs
      for (const Paragraph& p : c.caption->paragraphs) {
        if (p.kind == ParagraphKind::LessonLine) {
          drawn::TextUnformatted(kBullet);
          ImGui::SameLine();
        }
        drawn::TextWrapped("%s", p.text.c_str());
      }
    }
  }
  c.record->value("caption_overflow", ImGui::GetScrollMaxY());
}

}  // namespace kvscope::gui
