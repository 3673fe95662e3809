#pragma once
// HeatmapRenderer: one attention heatmap (query x key) drawn by shaders/heatmap.{vert,frag}.
// The weights go to a float (R32F) texture only when the data changes (step, layer or head); the
// colormap pass renders into an RGBA texture the size of the on-screen image only when the data, the
// size or the colours change. ImGui then shows that texture like any image.
#include <cstdint>

#include <vector>

#include "core/engine/forward_record.h"
#include "core/engine/tensor.h"
#include "gui/gl_util.h"

namespace kvscope::gui {

struct HeatmapColors {
  float masked[3];  // causally masked / out-of-window cells
  float hatch[3];   // their hatching
  float empty[3];   // query rows this pane did not compute this step
  float grid[3];
};

struct HeatmapRequest {
  std::uint64_t data_key = 0;         // changes whenever (trace, layer, head) changes
  const Matrix* weights = nullptr;    // [n_query_rows, n_positions], row i = query position query_begin + i
  int n_positions = 0;                // grid is n_positions x n_positions
  int query_begin = 0;
  const std::vector<KeySpan>* visible_keys = nullptr;  // per weights row, from the trace; outside: masked
};

class HeatmapRenderer {
 public:
  HeatmapRenderer();  // throws GlError (with the info log) if the shaders do not build

  // Returns the GL texture holding the picture (rows top-down when shown with uv (0,1)-(1,0)).
  GLuint render(const HeatmapRequest& request, int width_px, int height_px, const HeatmapColors& colors);

  int uploads() const { return uploads_; }  // float texture uploads so far (tests check the caching)

 private:
  void upload(const HeatmapRequest& request);
  void draw(const HeatmapRequest& request, int width_px, int height_px, const HeatmapColors& colors);

  Program program_;
  VertexArray vao_;
  Texture values_;   // R32F weights
  Texture picture_;  // RGBA8 output
  Framebuffer fbo_;
  std::uint64_t uploaded_key_ = ~std::uint64_t(0);
  std::uint64_t drawn_key_ = ~std::uint64_t(0);
  int drawn_width_ = 0, drawn_height_ = 0;
  std::uint32_t drawn_colors_ = 0;
  std::vector<float> staged_;  // the weights with masked cells set to -1 for the shader
  int uploads_ = 0;
};

}  // namespace kvscope::gui
