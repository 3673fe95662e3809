#pragma once
// RAII handles for the few GL objects kvscope owns, and shader compile/link that reports the info log.
#include <stdexcept>
#include <string>

#include "gui/draw/gl.h"

namespace kvscope::gui {

// A GL or shader failure; main() prints what() (with the info log) and exits 1.
struct GlError : std::runtime_error {
  explicit GlError(const std::string& message) : std::runtime_error(message) {}
};

// Move-only owner of one GL name; Deleter is a function deleting one name.
template <void (*Deleter)(GLuint)>
class GlHandle {
 public:
  GlHandle() = default;
  explicit GlHandle(GLuint name) : name_(name) {}
  GlHandle(GlHandle&& other) noexcept : name_(other.release()) {}
  GlHandle& operator=(GlHandle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  GlHandle(const GlHandle&) = delete;
  GlHandle& operator=(const GlHandle&) = delete;
  ~GlHandle() { reset(); }

  GLuint get() const { return name_; }
  explicit operator bool() const { return name_ != 0; }
  GLuint release() {
    GLuint n = name_;
    name_ = 0;
    return n;
  }
  void reset(GLuint name = 0) {
    if (name_ != 0) Deleter(name_);
    name_ = name;
  }

 private:
  GLuint name_ = 0;
};

void delete_texture(GLuint name);
void delete_framebuffer(GLuint name);
void delete_vertex_array(GLuint name);
void delete_program(GLuint name);
void delete_shader(GLuint name);

using Texture = GlHandle<delete_texture>;
using Framebuffer = GlHandle<delete_framebuffer>;
using VertexArray = GlHandle<delete_vertex_array>;
using Program = GlHandle<delete_program>;
using Shader = GlHandle<delete_shader>;

Texture make_texture();
Framebuffer make_framebuffer();
VertexArray make_vertex_array();

// Samples `texture` texel for texel (nearest, clamped): for pictures whose cells or glyphs sit on whole
// pixels, where a blend of neighbours would only blur, and which a software rasteriser samples far faster.
void set_nearest_sampling(GLuint texture);

// The GLSL version line for this target: shaders/ hold one source for both, without it. ImGui's
// backend takes it too (gui/main.cpp, gui/web/main_web.cpp).
#ifdef __EMSCRIPTEN__
inline constexpr const char* kGlslVersion = "#version 300 es";  // WebGL2
#else
inline constexpr const char* kGlslVersion = "#version 330 core";
#endif

// Compiles both stages, each after kGlslVersion (and OpenGL ES's default precisions), and links
// them; throws GlError with the stage name and the driver's info log.
Program build_program(const char* name, const char* vertex_source, const char* fragment_source);

// Throws GlError naming `what` if glGetError() reports an error.
void check_gl(const char* what);

}  // namespace kvscope::gui
