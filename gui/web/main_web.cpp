// kvscope in the browser (scripts/web.sh): the desktop's App in emscripten's GLFW window on the
// page's canvas, one frame per animation frame. The page (gui/web/kvscope_page.js) passes the URL's
// parameters as this command line, shows what goes to stderr, and calls the functions below.
// Errors at start-up are one line on the page, as on the desktop's terminal; the page stays up.
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/html5.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <new>
#include <string>

#include "core/engine/kernels/error.h"
#include "gui/app/app.h"
#include "gui/app/options.h"
#include "gui/app/window_frame.h"
#include "gui/draw/gl_util.h"

namespace {

using kvscope::gui::App;

struct Page {
  std::unique_ptr<App> app;
  GLFWwindow* window = nullptr;
  kvscope::gui::FrameGate gate;
  bool first_frame = true;
  std::string state;  // kvscope_state()'s answer, alive until the next call
};
Page* g_page = nullptr;  // lives as long as the page: main() returns before the first frame

std::string g_glfw_error = "unknown error";
void on_glfw_error(int, const char* description) { g_glfw_error = description; }

// The window's size in pixels: the canvas's CSS size (the page stretches it over the browser's
// window) times devicePixelRatio, so text is as sharp as the screen allows.
void size_window_to_canvas(GLFWwindow* window) {
  double css_w = 0, css_h = 0;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  const double ratio = emscripten_get_device_pixel_ratio();
  const int w = std::max(320, int(std::lround(css_w * ratio)));
  const int h = std::max(240, int(std::lround(css_h * ratio)));
  int now_w = 0, now_h = 0;
  glfwGetWindowSize(window, &now_w, &now_h);
  // Not glfwSetWindowSize: emscripten's asks for full screen when the size equals the screen's (a
  // maximised browser at ratio 1). Browser.setCanvasSize tells GLFW through its resize listener.
  if (now_w != w || now_h != h) EM_ASM({ Browser.setCanvasSize($0, $1); }, w, h);
}

// A file the App wrote to the in-memory file system (a screenshot) goes to the browser's downloads.
void download(const std::string& path) {
  EM_ASM({ Module.kvscopeDownload(UTF8ToString($0)); }, path.c_str());
}

void report(const std::string& message) {
  std::cerr << "kvscope: " << message << "\n";
}

void frame() {
  Page& page = *g_page;
  size_window_to_canvas(page.window);
  glfwPollEvents();
  if (!page.gate.should_draw(*page.app) && !page.first_frame) return;
  try {
    kvscope::gui::draw_window_frame(page.window, *page.app, download);
  } catch (const std::exception& e) {  // a GL failure: nothing more can be drawn
    report(e.what());
    emscripten_cancel_main_loop();
    return;
  }
  if (page.first_frame) {
    page.first_frame = false;
    EM_ASM({ Module.kvscopeFirstFrame(); });
  }
}

int start(int argc, char** argv) {
  using namespace kvscope::gui;
  WindowOptions options;
  const int parsed = parse_options(argc, argv, options);
  if (parsed != 0) return parsed < 0 ? 0 : parsed;
  options.app.state_on_demand = true;
  try {
    // Full screen is the browser's own (F11): the App's hook has nothing to do here.
    WindowHooks hooks{[] {}, [] { EM_ASM({ Module.kvscopePickFolder(); }); }};
    g_page->app = std::make_unique<App>(options.app, hooks);
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) throw GlError("cannot start GLFW: " + g_glfw_error);
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);  // WebGL2
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    glfwWindowHint(GLFW_DEPTH_BITS, 0);
    glfwWindowHint(GLFW_STENCIL_BITS, 0);
    g_page->window = glfwCreateWindow(options.width, options.height, "kvscope", nullptr, nullptr);
    if (!g_page->window) throw GlError("this browser gives no WebGL2 context: " + g_glfw_error);
    glfwMakeContextCurrent(g_page->window);
    size_window_to_canvas(g_page->window);
    start_imgui(g_page->window, *g_page->app);
  } catch (const kvscope::UsageError& e) {
    report(e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    report("out of memory");
    return 1;
  } catch (const std::exception& e) {  // DataError, GlError
    report(e.what());
    return 1;
  }
  return 0;
}

}  // namespace

extern "C" {

// window.kvscope.state(): what the desktop's --state-file records, for the frame on screen.
EMSCRIPTEN_KEEPALIVE const char* kvscope_state() {
  if (!g_page || !g_page->app) return "null";
  g_page->state = g_page->app->state_json();
  return g_page->state.c_str();
}

// A model folder the page wrote into the in-memory file system (folder picker, dropped files).
EMSCRIPTEN_KEEPALIVE void kvscope_open_folder(const char* folder) {
  if (g_page && g_page->app) g_page->app->open_model_folder(folder);
}

}  // extern "C"

int main(int argc, char** argv) {
  g_page = new Page;
  const int status = start(argc, argv);
  if (status != 0 || !g_page->app) {
    EM_ASM({ Module.kvscopeFailed($0); }, status);
    return status;
  }
  emscripten_set_main_loop(frame, 0, false);  // the page's animation frames from here on
  return 0;
}
