#include "gui/app/window_frame.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <cfloat>

#ifdef __EMSCRIPTEN__
#include <emscripten/html5.h>
#endif

#include "gui/app/app.h"
#include "gui/draw/gl_util.h"
#include "gui/drivers/screenshot.h"

namespace kvscope::gui {

namespace {
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
}  // namespace

bool FrameGate::should_draw(const App& app) {
  const bool active = g_input_events != events_drawn_ || app.needs_frames() || ImGui::GetIO().WantTextInput;
  quiet_frames_ = active ? 0 : quiet_frames_ + 1;
  events_drawn_ = g_input_events;
  return quiet_frames_ <= 4;
}

void start_imgui(GLFWwindow* window, App& app) {
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
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init(kGlslVersion);
}

void stop_imgui() {
  if (!ImGui::GetCurrentContext()) return;
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
}

void draw_window_frame(GLFWwindow* window, App& app, const std::function<void(const std::string&)>& saved) {
  int win_w = 0, win_h = 0, fb_w = 0, fb_h = 0;
  glfwGetWindowSize(window, &win_w, &win_h);
  glfwGetFramebufferSize(window, &fb_w, &fb_h);
  float content_scale = 1.0f;
#ifdef __EMSCRIPTEN__
  // Emscripten's GLFW sizes the window in canvas pixels (CSS pixels x devicePixelRatio: the page sets
  // them) and has no content scale: the ratio is the scale.
  content_scale = float(emscripten_get_device_pixel_ratio());
#else
  float scale_x = 1.0f;
  glfwGetWindowContentScale(window, &scale_x, &content_scale);
#endif
  app.update_fonts(float(win_h), win_w > 0 ? float(fb_w) / float(win_w) : 1.0f, content_scale);
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
  if (!shot.empty()) {
    const std::string error = save_screenshot(shot, fb_w, fb_h);
    app.report_screenshot(shot, error);
    if (error.empty() && saved) saved(shot);
  }
  glfwSwapBuffers(window);
  check_gl("frame");
}

}  // namespace kvscope::gui
