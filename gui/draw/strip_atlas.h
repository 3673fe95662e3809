#pragma once
// StripAtlas: the frame's K/V value strips as rows of one small RGBA texture, each strip one textured
// quad. Drawn cell by cell, a strip is 2 triangles per value (a pane of 9 rows of 64-wide K and V is
// 2,300 triangles); a software rasteriser (llvmpipe under Xvfb, many classroom VMs) pays per triangle,
// so the quads keep the frame light. The colours are the same viridis(t) the cells had, sampled nearest.
#include <cstdint>
#include <vector>

#include "gui/draw/gl_util.h"

#include <imgui.h>

namespace kvscope::gui {

class StripAtlas {
 public:
  // Starts a frame: the strips added before upload() are the ones drawn.
  void begin_frame();
  // Adds one strip of colours and draws it as one image filling [a, b]. False (nothing drawn) when the
  // strip is wider than kWidth or the frame already holds kRows strips: the caller draws its cells.
  bool draw(ImDrawList* dl, ImVec2 a, ImVec2 b, const std::vector<ImU32>& colors);
  // Sends the frame's strips to the texture (call after the panels, before the draw data is rendered).
  void upload();

  static constexpr int kWidth = 1024;  // the widest strip (head dims, MLA latent rows)
  static constexpr int kRows = 512;    // strips in one frame (a pane shows a few dozen at most)

 private:
  Texture texture_;
  std::vector<ImU32> pixels_;  // rows_ x kWidth, RGBA bytes as ImGui packs them
  int rows_ = 0;
};

}  // namespace kvscope::gui
