// kvscope: the window. Opens a GLFW window with an OpenGL 3.3 core context, runs the App each frame
// and shuts down; nothing else. Exit status: 0 success, 1 bad data or a GL/shader failure, 2 bad
// arguments; errors are one line on stderr.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <cfloat>
#include <csignal>
#include <memory>
#include <iostream>
#include <string>

#include "core/engine/kernels/error.h"
#include "gui/app/app.h"
#include "gui/drivers/headless.h"
#include "gui/draw/gl_util.h"
#include "gui/app/options.h"
#include "gui/drivers/screenshot.h"

namespace {

std::string g_glfw_error = "unknown error";
void on_glfw_error(int, const char* description) { g_glfw_error = description; }

// SIGTERM / SIGINT (a session logging out, Ctrl+C in the terminal): leave the loop and shut down as
// if the window were closed.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

// Input events seen, counted by callbacks installed before ImGui's (which chain to them): an idle
// window with nothing running draws nothing new.
unsigned long g_input_events = 0;
void count_input_events(GLFWwindow* window) {
  glfwSetCursorPosCallback(window, [](GLFWwindow*, double, double) { ++g_input_events; });
  glfwSetMouseButtonCallback(window, [](GLFWwindow*, int, int, int) { ++g_input_events; });
  glfwSetScrollCallback(window, [](GLFWwindow*, double, double) { ++g_input_events; });
  glfwSetCharCallback(window, [](GLFWwindow*, unsigned) { ++g_input_events; });
  glfwSetCursorEnterCallback(window, [](GLFWwindow*, int) { ++g_input_events; });
  glfwSetWindowFocusCallback(window, [](GLFWwindow*, int) { ++g_input_events; });
  glfwSetFramebufferSizeCallback(window, [](GLFWwindow*, int, int) { ++g_input_events; });
  glfwSetWindowRefreshCallback(window, [](GLFWwindow*) { ++g_input_events; });
}

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
  unsigned long events_drawn = ~0UL;
  int quiet_frames = 0;  // frames drawn since the last input
  while (!glfwWindowShouldClose(window) && !app.should_quit() && !g_stop) {
    if (headless || app.busy())
      glfwPollEvents();
    else if (glfwGetWindowAttrib(window, GLFW_ICONIFIED))
      glfwWaitEventsTimeout(0.25);  // minimised: sleep until something happens (or a stop signal)
    else
      glfwWaitEventsTimeout(0.05);  // Play and the progress line need a tick, nothing faster
    const bool active = g_input_events != events_drawn || app.needs_frames() || ImGui::GetIO().WantTextInput;
    quiet_frames = active ? 0 : quiet_frames + 1;
    events_drawn = g_input_events;
    // Nothing moved and nothing runs: the frame on screen is still right once ImGui has settled (a
    // few frames after the last input or work), so an idle window costs no drawing.
    if (!headless && quiet_frames > 4) continue;
    int win_w = 0, win_h = 0, fb_w = 0, fb_h = 0;
    float scale_x = 1.0f, scale_y = 1.0f;
    glfwGetWindowSize(window, &win_w, &win_h);
    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    glfwGetWindowContentScale(window, &scale_x, &scale_y);
    app.update_fonts(float(win_h), win_w > 0 ? float(fb_w) / float(win_w) : 1.0f, scale_y);
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    // The size the fonts were chosen for: the backend asks X again, and a resize landing in between
    // would give one frame text sized for one height laid out in another.
    if (win_w > 0 && win_h > 0) {
      ImGui::GetIO().DisplaySize = ImVec2(float(win_w), float(win_h));
      ImGui::GetIO().DisplayFramebufferScale = ImVec2(float(fb_w) / float(win_w), float(fb_h) / float(win_h));
    }
    if (app.ignores_mouse()) ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
    ImGui::NewFrame();
    app.frame();
    ImGui::Render();
    app.after_render(ImGui::GetDrawData());
    glViewport(0, 0, fb_w, fb_h);
    // The root window has no background of its own: the clear paints it (a software rasteriser fills a
    // clear far faster than a blended full-screen quad).
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(bg.x, bg.y, bg.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    const std::string shot = app.take_screenshot_request();
    if (!shot.empty()) app.report_screenshot(shot, save_screenshot(shot, fb_w, fb_h));
    glfwSwapBuffers(window);
    check_gl("frame");
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
  WindowHooks hooks{[&] { toggle_fullscreen(window, saved); }};
  int status = 0;
  try {
    // Without a person (--steps, --export-steps): a HeadlessRun drives the App. Made first, so an App
    // that fails to load leaves no export folder behind (its destructor removes it).
    std::unique_ptr<HeadlessRun> headless = is_headless(options.app) ? std::make_unique<HeadlessRun>(options.app) : nullptr;
    App app(options.app, hooks, headless.get());  // loads the model before any window opens
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) throw GlError("cannot start GLFW: " + g_glfw_error + " (no display? try xvfb-run)");
    window = open_window(options);
    if (!window) throw GlError("cannot open an OpenGL 3.3 core window (kvscope needs OpenGL 3.3 or newer): " + g_glfw_error);
    if (options.fullscreen) toggle_fullscreen(window, saved);
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // the layout is computed, nothing to save
    // Ours first: ImGui's backend chains to the callback installed before it.
    glfwSetWindowUserPointer(window, &app);
    glfwSetKeyCallback(window, [](GLFWwindow* w, int key, int, int action, int) {
      ++g_input_events;
      static_cast<App*>(glfwGetWindowUserPointer(w))->on_key(key, action);
    });
    count_input_events(window);
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGINT, on_stop_signal);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");
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
  if (ImGui::GetCurrentContext()) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  if (window) glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}
