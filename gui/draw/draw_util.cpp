// Drawing helpers shared by the panels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "gui/panels/panels.h"

namespace kvscope::gui {

void push_action(PanelContext& c, ActionType type, int value, std::string text) {
  c.actions->push_back({type, value, std::move(text)});
}

void push_play_speed(PanelContext& c, float steps_per_second) {
  c.actions->push_back({ActionType::SetPlaySpeed, 0, "", steps_per_second});
}

void push_focus(PanelContext& c, int row_end, int col_end) {
  c.actions->push_back({ActionType::SetFocus, row_end, "", 0.0f, col_end});
}

float max_abs(const float* x, int n) {
  float m[8] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) m[j] = std::max(m[j], std::abs(x[i + j]));
  for (; i < n; ++i) m[0] = std::max(m[0], std::abs(x[i]));
  return *std::max_element(m, m + 8);
}

float line_height() { return ImGui::GetTextLineHeightWithSpacing(); }

ScreenRect last_item_rect() {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  return {a.x, a.y, b.x, b.y};
}

ImVec2 draw_row_marker(ImDrawList* dl, ImVec2 pos, RowKind kind, const Palette& pal, float size) {
  const ImVec2 end(pos.x + size * 1.25f, pos.y + size);
  // Square corners and a whole-pixel outline: 2 + 8 triangles. Rounded, with a 1.5 px outline, a marker
  // was about a hundred, and 17 of them were a sixth of a frame's triangles.
  dl->AddRectFilled(pos, end, pal.row[int(kind)]);
  dl->AddRect(pos, end, pal.border, 0.0f, 0, 2.0f);
  const char* glyph = row_kind_glyph(kind);
  const ImVec2 text = ImGui::CalcTextSize(glyph);
  drawn::AddText(dl, ImVec2(pos.x + (end.x - pos.x - text.x) * 0.5f, pos.y + (size - text.y) * 0.5f), pal.row_glyph[int(kind)],
              glyph);
  return ImVec2(end.x - pos.x, size);
}

void draw_weight_scale(PanelContext& c, ImDrawList* dl, ImVec2 at, float height, double top, double bottom, bool log) {
  const float th = ImGui::GetTextLineHeight();
  const float bar_h = std::max(th * 1.5f, std::min(height, th * 6.0f));
  for (int i = 0; i < 32; ++i)
    dl->AddRectFilled(ImVec2(at.x, at.y + bar_h * (31 - i) / 32), ImVec2(at.x + th * 0.6f, at.y + bar_h * (32 - i) / 32 + 1),
                      viridis(i / 31.0f));
  auto number = [](double v) { return v >= 0.999 ? std::string("1") : v == 0.0 ? std::string("0") : drawn::format("%.2g", v); };
  drawn::AddText(dl, ImVec2(at.x + th * 0.75f, at.y - th * 0.2f), c.pal->text, drawn::figure("axis_tick", top, number(top)));
  drawn::AddText(dl, ImVec2(at.x + th * 0.75f, at.y + bar_h - th * 0.8f), c.pal->text,
                 drawn::figure("axis_tick", bottom, number(bottom)));
  if (log && bar_h >= th * 3.0f) drawn::AddText(dl, ImVec2(at.x + th * 0.75f, at.y + bar_h * 0.5f - th * 0.5f), c.pal->text_muted, "log");
}

void draw_value_strip(PanelContext& c, ImDrawList* dl, ImVec2 pos, ImVec2 size, const float* values, int n,
                      float scale, bool dashed_border, bool layered) {
  const Palette& pal = *c.pal;
  if (layered) dl->ChannelsSetCurrent(kRowMarks);
  if (!values || n <= 0) {
    dl->AddRect(pos, ImVec2(pos.x + size.x, pos.y + size.y), pal.border);
    return;
  }
  std::vector<ImU32> colors(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) colors[std::size_t(i)] = viridis(scale > 0.0f ? 0.5f + 0.5f * values[i] / scale : 0.5f);
  if (layered) dl->ChannelsSetCurrent(kRowImages);
  if (!c.strips || !c.strips->draw(dl, pos, ImVec2(pos.x + size.x, pos.y + size.y), colors)) {
    const float cell = size.x / float(n);
    for (int i = 0; i < n; ++i)
      dl->AddRectFilled(ImVec2(pos.x + cell * i, pos.y), ImVec2(pos.x + cell * (i + 1), pos.y + size.y), colors[std::size_t(i)]);
  }
  if (layered) dl->ChannelsSetCurrent(kRowMarks);
  if (!dashed_border) {
    dl->AddRect(pos, ImVec2(pos.x + size.x, pos.y + size.y), pal.border);
    return;
  }
  // Dashed outline: the query row is temporary.
  const float dash = std::max(4.0f, size.y * 0.3f);
  for (float x = pos.x; x < pos.x + size.x; x += 2 * dash) {
    const float x1 = std::min(x + dash, pos.x + size.x);
    dl->AddLine(ImVec2(x, pos.y), ImVec2(x1, pos.y), pal.text, 2.0f);
    dl->AddLine(ImVec2(x, pos.y + size.y), ImVec2(x1, pos.y + size.y), pal.text, 2.0f);
  }
  dl->AddLine(pos, ImVec2(pos.x, pos.y + size.y), pal.text, 2.0f);
  dl->AddLine(ImVec2(pos.x + size.x, pos.y), ImVec2(pos.x + size.x, pos.y + size.y), pal.text, 2.0f);
}

void hover_position_if_item_hovered(PanelContext& c, int position) {
  if (ImGui::IsItemHovered()) push_action(c, ActionType::Hover, position);
}

std::string token_label(const StepTrace& t, int position) {
  if (position < 0 || position >= int(t.context_texts.size())) return "?";
  return drawn::figure("token", position, quoted(t.context_texts[position]));  // a token's text may hold digits
}

nlohmann::json pane_context(const PanelContext& c, PaneKind pane) {
  const PaneSource& source = c.sources[pane];
  nlohmann::json j = {{"mode", source.cached ? "cached" : "uncached"}};
  if (!source.policy.empty()) j["policy"] = source.policy;
  return j;
}

}  // namespace kvscope::gui
