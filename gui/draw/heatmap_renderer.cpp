#include "gui/draw/heatmap_renderer.h"

#include <cmath>
#include <cstring>

#include "gui/draw/embedded.h"

namespace kvscope::gui {

namespace {

std::uint32_t hash_colors(const HeatmapColors& c) {
  std::uint32_t h = 2166136261u;  // FNV-1a over the bytes
  const unsigned char* p = reinterpret_cast<const unsigned char*>(&c);
  for (std::size_t i = 0; i < sizeof c; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

}  // namespace

HeatmapRenderer::HeatmapRenderer()
    : program_(build_program("heatmap", find_embedded(embedded_shaders(), "heatmap.vert")->text().c_str(),
                             find_embedded(embedded_shaders(), "heatmap.frag")->text().c_str())),
      vao_(make_vertex_array()),
      values_(make_texture()) {
  set_nearest_sampling(values_.get());
  for (Target& t : targets_) {
    t.texture = make_texture();
    t.fbo = make_framebuffer();
    set_nearest_sampling(t.texture.get());
  }
  glBindTexture(GL_TEXTURE_2D, 0);
  check_gl("heatmap renderer set-up");
}

void HeatmapRenderer::upload(const HeatmapRequest& r) {
  glBindTexture(GL_TEXTURE_2D, values_.get());
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  if (r.weights && r.weights->size() > 0) {
    // Matrix is RowMajor, so its data is already texture rows (one query row per texture row). Cells
    // the trace records as invisible to a query become -1: the shader hatches them.
    const int rows = int(r.weights->rows()), cols = int(r.weights->cols());
    staged_.assign(r.weights->data(), r.weights->data() + r.weights->size());
    for (int i = 0; i < rows; ++i)
      for (int k = 0; k < cols; ++k) {
        float& v = staged_[std::size_t(i) * cols + k];
        if (r.forward && !r.forward->key_read(r.layer, r.forward->query_begin + i, k))
          v = -1.0f;
        else if (v >= 0.0f && r.log_floor > 0.0f)
          v = v <= r.log_floor ? 0.0f : std::log(v / r.log_floor) / std::log(r.value_scale / r.log_floor);
        else if (v >= 0.0f)
          v /= r.value_scale;
      }
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, cols, rows, 0, GL_RED, GL_FLOAT, staged_.data());
  } else {
    const float zero = 0.0f;
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, 1, 1, 0, GL_RED, GL_FLOAT, &zero);
  }
  glBindTexture(GL_TEXTURE_2D, 0);
  check_gl("heatmap upload");
  uploaded_key_ = r.data_key;
  ++uploads_;
}

void HeatmapRenderer::draw(const HeatmapRequest& r, const HeatmapView& view, int width, int height,
                           const HeatmapColors& c, Target& target) {
  if (width != target.width || height != target.height) {
    glBindTexture(GL_TEXTURE_2D, target.texture.get());
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glBindFramebuffer(GL_FRAMEBUFFER, target.fbo.get());
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, target.texture.get(), 0);
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
      throw GlError("heatmap framebuffer is incomplete");
  }
  GLint viewport[4];
  glGetIntegerv(GL_VIEWPORT, viewport);
  glBindFramebuffer(GL_FRAMEBUFFER, target.fbo.get());
  glViewport(0, 0, width, height);
  glDisable(GL_BLEND);
  glDisable(GL_SCISSOR_TEST);
  glDisable(GL_DEPTH_TEST);
  glUseProgram(program_.get());
  const GLuint p = program_.get();
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, values_.get());
  glUniform1i(glGetUniformLocation(p, "u_values"), 0);
  const int n_rows = r.weights ? int(r.weights->rows()) : 0;
  glUniform1i(glGetUniformLocation(p, "u_n_positions"), r.n_positions > 0 ? r.n_positions : 1);
  glUniform4i(glGetUniformLocation(p, "u_view"), view.row0, view.col0, view.rows, view.cols);
  glUniform1i(glGetUniformLocation(p, "u_query_begin"), r.query_begin);
  glUniform1i(glGetUniformLocation(p, "u_n_query_rows"), n_rows);
  glUniform2f(glGetUniformLocation(p, "u_size_px"), float(width), float(height));
  glUniform3fv(glGetUniformLocation(p, "u_masked"), 1, c.masked);
  glUniform3fv(glGetUniformLocation(p, "u_hatch"), 1, c.hatch);
  glUniform3fv(glGetUniformLocation(p, "u_empty"), 1, c.empty);
  glUniform3fv(glGetUniformLocation(p, "u_grid"), 1, c.grid);
  glBindVertexArray(vao_.get());
  glDrawArrays(GL_TRIANGLES, 0, 3);
  glBindVertexArray(0);
  glUseProgram(0);
  glBindTexture(GL_TEXTURE_2D, 0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glViewport(viewport[0], viewport[1], viewport[2], viewport[3]);
  check_gl("heatmap colormap pass");
  target.width = width;
  target.height = height;
}

GLuint HeatmapRenderer::render(const HeatmapRequest& r, const HeatmapView& view, int width, int height,
                               const HeatmapColors& colors, Picture picture) {
  if (width < 1) width = 1;
  if (height < 1) height = 1;
  Target& target = targets_[picture == kOverview ? 1 : 0];
  const std::uint32_t colors_hash = hash_colors(colors);
  if (r.data_key != uploaded_key_) upload(r);
  if (r.data_key != target.drawn_key || !(view == target.drawn_view) || width != target.width ||
      height != target.height || colors_hash != target.drawn_colors) {
    draw(r, view, width, height, colors, target);
    target.drawn_key = r.data_key;
    target.drawn_view = view;
    target.drawn_colors = colors_hash;
  }
  return target.texture.get();
}

}  // namespace kvscope::gui
