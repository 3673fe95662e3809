#include "gui/drivers/screenshot.h"

#include <cstring>
#include <vector>

#include <stb_image_write.h>

#include "gui/draw/gl.h"

namespace kvscope::gui {

std::string save_screenshot(const std::string& path, int width, int height) {
  if (width <= 0 || height <= 0) return "screenshot: the window has no pixels";
  const std::size_t stride = std::size_t(width) * 3;
  std::vector<unsigned char> pixels(stride * std::size_t(height));
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  if (glGetError() != GL_NO_ERROR) return "screenshot: glReadPixels failed";
  // GL's first row is the bottom one; PNG's is the top one.
  std::vector<unsigned char> row(stride);
  for (int y = 0; y < height / 2; ++y) {
    unsigned char* a = pixels.data() + stride * std::size_t(y);
    unsigned char* b = pixels.data() + stride * std::size_t(height - 1 - y);
    std::memcpy(row.data(), a, stride);
    std::memcpy(a, b, stride);
    std::memcpy(b, row.data(), stride);
  }
  if (!stbi_write_png(path.c_str(), width, height, 3, pixels.data(), int(stride)))
    return "screenshot: cannot write " + path;
  return "";
}

}  // namespace kvscope::gui
