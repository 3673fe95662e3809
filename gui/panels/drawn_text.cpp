#include "gui/panels/drawn_text.h"

#include <cstdarg>
#include <cstdio>
#include <vector>

namespace kvscope::gui::drawn {

namespace {

// The UI thread's recorder and panel (ImGui itself keeps one current context the same way).
thread_local FrameRecord* current_record = nullptr;
thread_local const char* current_panel_name = "";

std::string format_v(const char* fmt, va_list args) {
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return "";
  std::vector<char> buffer(std::size_t(n) + 1);
  std::vsnprintf(buffer.data(), buffer.size(), fmt, args);
  return std::string(buffer.data(), std::size_t(n));
}

void record(const std::string& text) {
  if (current_record && !text.empty()) current_record->text(current_panel_name, text);
}

// ImGui's own calls with the text already formatted: wrapping keeps a wrap position the caller pushed.
void wrapped(const std::string& s) { ImGui::TextWrapped("%s", s.c_str()); }
void colored(const ImVec4& color, const std::string& s) { ImGui::TextColored(color, "%s", s.c_str()); }

}  // namespace

PanelScope::PanelScope(FrameRecord* record, const char* panel)
    : previous_record_(current_record), previous_panel_(current_panel_name) {
  current_record = record && record->enabled() ? record : nullptr;
  current_panel_name = panel;
}

PanelScope::~PanelScope() {
  current_record = previous_record_;
  current_panel_name = previous_panel_;
}

const char* current_panel() { return current_panel_name; }

std::string figure(const char* quantity, double value, std::string text, nlohmann::json context) {
  if (current_record) current_record->figure(current_panel_name, quantity, value, text, context);
  return text;
}

std::string format(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::string s = format_v(fmt, args);
  va_end(args);
  return s;
}

void figures(const std::vector<Figure>& list) {
  if (!current_record) return;
  for (const Figure& f : list) current_record->figure(current_panel_name, f.quantity.c_str(), f.value, f.text, f.context);
}

void Text(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const std::string s = format_v(fmt, args);
  va_end(args);
  ImGui::TextUnformatted(s.c_str(), s.c_str() + s.size());
  record(s);
}

void TextWrapped(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const std::string s = format_v(fmt, args);
  va_end(args);
  wrapped(s);
  record(s);
}

void TextDisabled(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const std::string s = format_v(fmt, args);
  va_end(args);
  ImGui::TextDisabled("%s", s.c_str());
  record(s);
}

void TextColored(const ImVec4& color, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const std::string s = format_v(fmt, args);
  va_end(args);
  colored(color, s);
  record(s);
}

void TextUnformatted(const char* text) {
  ImGui::TextUnformatted(text);
  record(text);
}

void TextUnformatted(const std::string& text) { TextUnformatted(text.c_str()); }

void SetTooltip(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const std::string s = format_v(fmt, args);
  va_end(args);
  ImGui::SetTooltip("%s", s.c_str());
  record(s);
}

void AddText(ImDrawList* dl, const ImVec2& pos, ImU32 color, const char* text) {
  dl->AddText(pos, color, text);
  record(text);
}

void AddText(ImDrawList* dl, const ImVec2& pos, ImU32 color, const std::string& text) { AddText(dl, pos, color, text.c_str()); }

void AddText(ImDrawList* dl, const ImFont* font, float font_size, const ImVec2& pos, ImU32 color, const char* text,
             float wrap_width, const ImVec4* clip) {
  dl->AddText(font, font_size, pos, color, text, nullptr, wrap_width, clip);
  record(text);
}

void Label(const char* label) {
  const std::string s(label);
  record(s.substr(0, s.find("##")));
}

void Label(const std::string& label) { Label(label.c_str()); }

}  // namespace kvscope::gui::drawn
