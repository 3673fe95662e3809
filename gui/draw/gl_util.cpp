#include "gui/draw/gl_util.h"

#include <cstdio>
#include <vector>

namespace kvscope::gui {

void delete_texture(GLuint name) { glDeleteTextures(1, &name); }
void delete_framebuffer(GLuint name) { glDeleteFramebuffers(1, &name); }
void delete_vertex_array(GLuint name) { glDeleteVertexArrays(1, &name); }
void delete_program(GLuint name) { glDeleteProgram(name); }
void delete_shader(GLuint name) { glDeleteShader(name); }

Texture make_texture() {
  GLuint name = 0;
  glGenTextures(1, &name);
  return Texture(name);
}

Framebuffer make_framebuffer() {
  GLuint name = 0;
  glGenFramebuffers(1, &name);
  return Framebuffer(name);
}

VertexArray make_vertex_array() {
  GLuint name = 0;
  glGenVertexArrays(1, &name);
  return VertexArray(name);
}

namespace {

std::string shader_log(GLuint shader) {
  GLint length = 0;
  glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
  std::vector<char> log(std::size_t(length > 1 ? length : 1), '\0');
  glGetShaderInfoLog(shader, GLsizei(log.size()), nullptr, log.data());
  return log.data();
}

std::string program_log(GLuint program) {
  GLint length = 0;
  glGetProgramiv(program, GL_INFO_LOG_LENGTH, &length);
  std::vector<char> log(std::size_t(length > 1 ? length : 1), '\0');
  glGetProgramInfoLog(program, GLsizei(log.size()), nullptr, log.data());
  return log.data();
}

Shader compile(GLenum stage, const char* program_name, const char* stage_name, const char* source) {
  Shader shader(glCreateShader(stage));
  if (!shader) throw GlError(std::string("glCreateShader failed for ") + program_name + "." + stage_name);
  // OpenGL ES has no default float precision in fragment shaders; desktop GLSL ignores the line.
  const char* sources[] = {kGlslVersion, "\nprecision highp float;\nprecision highp int;\nprecision highp sampler2D;\n",
                           source};
  glShaderSource(shader.get(), 3, sources, nullptr);
  glCompileShader(shader.get());
  GLint ok = GL_FALSE;
  glGetShaderiv(shader.get(), GL_COMPILE_STATUS, &ok);
  if (ok != GL_TRUE)
    throw GlError(std::string("shader ") + program_name + "." + stage_name + " failed to compile: " +
                  shader_log(shader.get()));
  return shader;
}

}  // namespace

Program build_program(const char* name, const char* vertex_source, const char* fragment_source) {
  Shader vertex = compile(GL_VERTEX_SHADER, name, "vert", vertex_source);
  Shader fragment = compile(GL_FRAGMENT_SHADER, name, "frag", fragment_source);
  Program program(glCreateProgram());
  glAttachShader(program.get(), vertex.get());
  glAttachShader(program.get(), fragment.get());
  glLinkProgram(program.get());
  GLint ok = GL_FALSE;
  glGetProgramiv(program.get(), GL_LINK_STATUS, &ok);
  if (ok != GL_TRUE)
    throw GlError(std::string("shader program ") + name + " failed to link: " + program_log(program.get()));
  glDetachShader(program.get(), vertex.get());
  glDetachShader(program.get(), fragment.get());
  return program;
}

void set_nearest_sampling(GLuint texture) {
  glBindTexture(GL_TEXTURE_2D, texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

void check_gl(const char* what) {
  const GLenum error = glGetError();
  if (error != GL_NO_ERROR) {
    char code[16];
    std::snprintf(code, sizeof code, "0x%04X", unsigned(error));
    throw GlError(std::string("OpenGL error ") + code + " in " + what);
  }
}

}  // namespace kvscope::gui
