#pragma once
// The smallest text actually drawn in a frame, measured from ImGui's draw data: every glyph quad is
// matched (by its atlas UVs) to the font it came from, and its on-screen height to that glyph's height
// at the font's size. Text scaled or pushed at any size counts; glyphs cut by a clip rect are skipped.
#include <imgui.h>

namespace kvscope::gui {

// Smallest font size in logical pixels among the glyphs drawn (0 when no text was drawn).
float smallest_text_px(const ImDrawData* draw_data);

}  // namespace kvscope::gui
