#include "gui/draw/text_metrics.h"

#include <algorithm>
#include <map>
#include <utility>

namespace kvscope::gui {

namespace {

struct GlyphSize {
  float font_px;   // the font's size as rasterised (atlas pixels)
  float height;    // the glyph quad's height at that size
  ImVec2 uv1;      // its bottom-right UV, to confirm a quad
};

// (U0, V0) of each visible glyph of every font in the atlas, rebuilt when the atlas changes.
const std::map<std::pair<float, float>, GlyphSize>& glyph_table(const ImFontAtlas* atlas) {
  static const ImFontAtlas* built_for = nullptr;
  static int built_tex_w = 0, built_tex_h = 0, built_fonts = 0;
  static std::map<std::pair<float, float>, GlyphSize> table;
  if (built_for == atlas && built_tex_w == atlas->TexWidth && built_tex_h == atlas->TexHeight &&
      built_fonts == atlas->Fonts.Size)
    return table;
  table.clear();
  for (const ImFont* font : atlas->Fonts)
    for (const ImFontGlyph& g : font->Glyphs)
      if (g.Visible && g.Y1 - g.Y0 >= 4.0f)  // tiny marks ('.', '-') say little about size
        table[{g.U0, g.V0}] = GlyphSize{font->FontSize, g.Y1 - g.Y0, ImVec2(g.U1, g.V1)};
  built_for = atlas;
  built_tex_w = atlas->TexWidth;
  built_tex_h = atlas->TexHeight;
  built_fonts = atlas->Fonts.Size;
  return table;
}

}  // namespace

float smallest_text_px(const ImDrawData* draw_data) {
  if (!draw_data || !ImGui::GetCurrentContext()) return 0.0f;
  const auto& table = glyph_table(ImGui::GetIO().Fonts);
  float smallest = 0.0f;
  for (int l = 0; l < draw_data->CmdListsCount; ++l) {
    const ImVector<ImDrawVert>& v = draw_data->CmdLists[l]->VtxBuffer;
    for (int i = 0; i + 2 < v.Size; ++i) {
      const auto it = table.find({v[i].uv.x, v[i].uv.y});
      if (it == table.end() || v[i + 2].uv.x != it->second.uv1.x || v[i + 2].uv.y != it->second.uv1.y) continue;
      const float quad_h = v[i + 2].pos.y - v[i].pos.y;
      // Drawn at size S, a glyph is (Y1 - Y0) * S / FontSize tall (in the draw data's logical pixels).
      const float px = it->second.font_px * quad_h / it->second.height;
      if (px > 0.0f && (smallest == 0.0f || px < smallest)) smallest = px;
      i += 3;
    }
  }
  return smallest;
}

}  // namespace kvscope::gui
