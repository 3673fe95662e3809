// kvscope: the window. Opens a GLFW window with an OpenGL 3.3 core context, runs the App each frame
// and shuts down; nothing else. Exit status: 0 success, 1 bad data or a GL/shader failure, 2 bad
// arguments; errors are one line on stderr.
#include <GLFW/glfw3.h>

#include <csignal>
#include <memory>
#include <iostream>
#include <string>

#include "core/engine/kernels/error.h"
#include "gui/app/app.h"
#include "gui/app/background_job.h"
#include "gui/app/window_frame.h"
#include "gui/draw/gl_util.h"
#include "gui/drivers/headless.h"
#include "gui/app/options.h"

namespace {

std::string g_glfw_error = "unknown error";
void on_glfw_error(int, const char* description) { g_glfw_error = description; }

// SIGTERM / SIGINT (a session logging out, Ctrl+C in the terminal): leave the loop and shut down as
// if the window were closed.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

struct Windowed {
  int x = 0, y = 0, w = 0, h = 0;
};

void toggle_fullscreen(GLFWwindow* window, Windowed& saved) {
  if (glfwGetWindowMonitor(window)) {
    glfwSetWindowMonitor(window, nullptr, saved.x, saved.y, saved.w, saved.h, 0);
    return;
  }
  glfwGetWindowPos(window, &saved.x, &saved.y);
  glfwGetWindowSize(window, &saved.w, &saved.h);
  GLFWmonitor* monitor = glfwGetPrimaryMonitor();
  const GLFWvidmode* mode = monitor ? glfwGetVideoMode(monitor) : nullptr;
  if (mode) glfwSetWindowMonitor(window, monitor, 0, 0, mode->width, mode->height, mode->refreshRate);
}

GLFWwindow* open_window(const kvscope::gui::WindowOptions& o) {
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);  // DPI awareness
  // Nothing is depth-tested or stenciled. Without those buffers Mesa's software rasteriser may draw
  // screen-aligned quads (glyphs, images, boxes) as rectangles rather than triangle pairs.
  glfwWindowHint(GLFW_DEPTH_BITS, 0);
  glfwWindowHint(GLFW_STENCIL_BITS, 0);
  GLFWwindow* window = glfwCreateWindow(o.width, o.height, "kvscope", nullptr, nullptr);
  if (!window) return nullptr;
  glfwMakeContextCurrent(window);
  glfwSwapInterval(o.app.steps >= 0 || !o.app.export_dir.empty() ? 0 : 1);
  return window;
}

int run(GLFWwindow* window, kvscope::gui::App& app, bool headless) {
  using namespace kvscope::gui;
  FrameGate gate;
  while (!glfwWindowShouldClose(window) && !app.should_quit() && !g_stop) {
    if (app.busy())
      glfwWaitEventsTimeout(0.1);  // a step gets the cores (the memory wall times steps); its end wakes us at once
    else if (headless)
      glfwPollEvents();
    else if (glfwGetWindowAttrib(window, GLFW_ICONIFIED))
      glfwWaitEventsTimeout(0.25);  // minimised: sleep until something happens (or a stop signal)
    else
      glfwWaitEventsTimeout(0.05);  // Play and the progress line need a tick, nothing faster
    if (gate.should_draw(app) || headless) draw_window_frame(window, app);
  }
  return app.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kvscope::gui;
  WindowOptions options;
  const int parsed = parse_options(argc, argv, options);
  if (parsed != 0) return parsed < 0 ? 0 : parsed;
  Windowed saved;
  GLFWwindow* window = nullptr;
  WindowHooks hooks{[&] { toggle_fullscreen(window, saved); }, {}};
  int status = 0;
  try {
    // Without a person (--steps, --export-steps): a HeadlessRun drives the App. Made first, so an App
    // that fails to load leaves no export folder behind (its destructor removes it).
    std::unique_ptr<HeadlessRun> headless = is_headless(options.app) ? std::make_unique<HeadlessRun>(options.app) : nullptr;
    App app(options.app, hooks, headless.get());  // loads the model before any window opens
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) throw GlError("cannot start GLFW: " + g_glfw_error + " (no display? try xvfb-run)");
    BackgroundJob::set_wake(glfwPostEmptyEvent);
    window = open_window(options);
    if (!window) throw GlError("cannot open an OpenGL 3.3 core window (kvscope needs OpenGL 3.3 or newer): " + g_glfw_error);
    if (options.fullscreen) toggle_fullscreen(window, saved);
    start_imgui(window, app);
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGINT, on_stop_signal);
    status = run(window, app, app.ignores_mouse());
  } catch (const GlError& e) {
    std::cerr << "kvscope: " << e.what() << "\n";
    status = 1;
  } catch (const kvscope::UsageError& e) {
    std::cerr << "kvscope: " << e.what() << "\n";
    status = 2;
  } catch (const kvscope::DataError& e) {
    std::cerr << "kvscope: " << e.what() << "\n";
    status = 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "kvscope: out of memory\n";
    status = 1;
  }
  stop_imgui();
  if (window) glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}
