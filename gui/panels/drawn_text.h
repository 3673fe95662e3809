#pragma once
// Every text the window draws goes through these, never through ImGui's text calls directly (the
// drawn_text_only test greps for them): each draws exactly as its ImGui namesake and adds the string to
// the frame's "texts" list under the panel drawing it, so the figure-ledger test sees what a student
// sees. A PanelScope names the panel; without one (or without --state-file) nothing is recorded.
#include <string>

#include <imgui.h>

#include "core/lessons/figure.h"
#include "gui/panels/frame_record.h"

namespace kvscope::gui::drawn {

// While alive, texts drawn are recorded under `panel` (scopes nest: the inner one wins, then restores).
class PanelScope {
 public:
  PanelScope(FrameRecord* record, const char* panel);
  ~PanelScope();
  PanelScope(const PanelScope&) = delete;
  PanelScope& operator=(const PanelScope&) = delete;

 private:
  FrameRecord* previous_record_;
  const char* previous_panel_;
};

void Text(const char* fmt, ...) IM_FMTARGS(1);
void TextWrapped(const char* fmt, ...) IM_FMTARGS(1);
void TextDisabled(const char* fmt, ...) IM_FMTARGS(1);
void TextColored(const ImVec4& color, const char* fmt, ...) IM_FMTARGS(2);
void TextUnformatted(const char* text);
void TextUnformatted(const std::string& text);
void SetTooltip(const char* fmt, ...) IM_FMTARGS(1);
void AddText(ImDrawList* dl, const ImVec2& pos, ImU32 color, const char* text);
void AddText(ImDrawList* dl, const ImVec2& pos, ImU32 color, const std::string& text);
void AddText(ImDrawList* dl, const ImFont* font, float font_size, const ImVec2& pos, ImU32 color, const char* text,
             float wrap_width, const ImVec4* clip);
// A widget's visible label or value text ("Step ▶", a slider's "3"): the part before "##", recorded only.
void Label(const char* label);
void Label(const std::string& label);
// The figure ledger: a number about to be drawn in the current panel, declared; returns `text`.
std::string figure(const char* quantity, double value, std::string text,
                   nlohmann::json context = nlohmann::json::object());
// printf into a string (to compose a figure's text).
std::string format(const char* fmt, ...) IM_FMTARGS(1);
// Figures written in core with the strings this panel draws (captions, lesson lines, formulas).
void figures(const std::vector<Figure>& list);
// The panel texts are recorded under now ("" outside any scope).
const char* current_panel();

}  // namespace kvscope::gui::drawn
