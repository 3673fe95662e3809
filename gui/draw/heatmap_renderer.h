#pragma once
// HeatmapRenderer: one attention heatmap (query x key) drawn by shaders/heatmap.{vert,frag}.
// The weights go to a float (R32F) texture only when the data changes (step, layer or head); the
// colormap pass renders into an RGBA texture the size of the on-screen image only when the data, the
// size or the colours change. ImGui then shows that texture like any image.
#include <cstdint>

#include <vector>

#include "core/engine/forward/forward_record.h"
#include "core/engine/kernels/tensor.h"
#include "gui/draw/gl_util.h"

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
  // The pane's record: keys its rows did not read are masked. Null: the weights mark masked cells
  // themselves with -1 (a pooled picture's cells, LayerRecord::pooled).
  const ForwardRecord* forward = nullptr;
  int layer = 0;
  float value_scale = 1.0f;  // the weight drawn at the top of the colour scale
  // > 0: a logarithmic scale from this weight (the bottom colour; anything below it too) to value_scale.
  float log_floor = 0.0f;
};

// Which part of the grid a picture shows: rows row0..row0+rows-1 by keys col0..col0+cols-1 (the whole
// matrix, or a focus window of full-size cells when the whole one would make them too small).
struct HeatmapView {
  int row0 = 0, col0 = 0, rows = 0, cols = 0;
  bool operator==(const HeatmapView& o) const { return row0 == o.row0 && col0 == o.col0 && rows == o.rows && cols == o.cols; }
};

class HeatmapRenderer {
 public:
  HeatmapRenderer();  // throws GlError (with the info log) if the shaders do not build

  enum Picture { kFocus = 0, kOverview = 1 };
  // Returns the GL texture holding the picture of `view` (rows top-down when shown with uv (0,1)-(1,0)).
  // Each Picture has its own texture, redrawn only when its inputs change.
  GLuint render(const HeatmapRequest& request, const HeatmapView& view, int width_px, int height_px,
                const HeatmapColors& colors, Picture picture = kFocus);

  int uploads() const { return uploads_; }  // float texture uploads so far (tests check the caching)

 private:
  void upload(const HeatmapRequest& request);
  struct Target {
    Texture texture;  // RGBA8 output
    Framebuffer fbo;
    std::uint64_t drawn_key = ~std::uint64_t(0);
    HeatmapView drawn_view;
    int width = 0, height = 0;
    std::uint32_t drawn_colors = 0;
  };
  void draw(const HeatmapRequest& request, const HeatmapView& view, int width_px, int height_px,
            const HeatmapColors& colors, Target& target);

  Program program_;
  VertexArray vao_;
  Texture values_;   // R32F weights
  Target targets_[2];
  std::uint64_t uploaded_key_ = ~std::uint64_t(0);
  std::vector<float> staged_;  // the weights with masked cells set to -1 for the shader
  int uploads_ = 0;
};

}  // namespace kvscope::gui
