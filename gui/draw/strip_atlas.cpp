#include "gui/draw/strip_atlas.h"

#include <algorithm>

namespace kvscope::gui {

void StripAtlas::begin_frame() { rows_ = 0; }

bool StripAtlas::draw(ImDrawList* dl, ImVec2 a, ImVec2 b, const std::vector<ImU32>& colors) {
  const int n = int(colors.size());
  if (n == 0 || n > kWidth || rows_ >= kRows) return false;
  if (!texture_) {
    texture_ = make_texture();
    set_nearest_sampling(texture_.get());  // a cell is one texel, never blended
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, kWidth, kRows, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glBindTexture(GL_TEXTURE_2D, 0);
    check_gl("strip atlas");
    pixels_.assign(std::size_t(kWidth) * kRows, 0);
  }
  std::copy(colors.begin(), colors.end(), pixels_.begin() + std::ptrdiff_t(rows_) * kWidth);
  const ImVec2 uv0(0.0f, float(rows_) / kRows), uv1(float(n) / kWidth, float(rows_ + 1) / kRows);
  dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture_.get())), a, b, uv0, uv1);
  ++rows_;
  return true;
}

void StripAtlas::upload() {
  if (!texture_ || rows_ == 0) return;
  glBindTexture(GL_TEXTURE_2D, texture_.get());
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, kWidth, rows_, GL_RGBA, GL_UNSIGNED_BYTE, pixels_.data());
  glBindTexture(GL_TEXTURE_2D, 0);
  check_gl("strip atlas upload");
}

}  // namespace kvscope::gui
