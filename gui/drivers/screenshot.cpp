#include "gui/drivers/screenshot.h"

#include <cstring>
#include <vector>

#include <stb_image_write.h>

#include "gui/draw/gl.h"

namespace kvscope::gui {

std::string save_screenshot(const std::string& path, int width, int height) {
  if (width <= 0 || height <= 0) return "screenshot: the window has no pixels";
  // RGBA is the one format OpenGL ES (WebGL2) always reads back; the PNG keeps RGB.
  std::vector<unsigned char> rgba(std::size_t(width) * std::size_t(height) * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  if (glGetError() != GL_NO_ERROR) return "screenshot: glReadPixels failed";
  // GL's first row is the bottom one; PNG's is the top one.
  const std::size_t stride = std::size_t(width) * 3;
  std::vector<unsigned char> pixels(stride * std::size_t(height));
  for (int y = 0; y < height; ++y) {
    const unsigned char* from = rgba.data() + std::size_t(height - 1 - y) * std::size_t(width) * 4;
    unsigned char* to = pixels.data() + stride * std::size_t(y);
    for (int x = 0; x < width; ++x) std::memcpy(to + 3 * x, from + 4 * x, 3);
  }
  // No per-row filter: the window's flat colours compress better unfiltered, and stb then skips trying
  // all five filters on every row (a 1920x1080 frame: 258 KB in 66 ms, against 276 KB in 120 ms).
  stbi_write_force_png_filter = 0;
  if (!stbi_write_png(path.c_str(), width, height, 3, pixels.data(), int(stride)))
    return "screenshot: cannot write " + path;
  return "";
}

}  // namespace kvscope::gui
