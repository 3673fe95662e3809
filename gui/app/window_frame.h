#pragma once
// One frame of the App in a GLFW window, the same on the desktop (gui/main.cpp's loop) and in the
// browser (gui/web/main_web.cpp, called by the page's animation frames): fonts for the window's size
// and pixel ratio, the ImGui frame, the GL draw, and a screenshot when one was asked for.
#include <functional>
#include <string>

struct GLFWwindow;

namespace kvscope::gui {

class App;

// After the window's GL context is current: ImGui's context and GLFW + OpenGL backends, with the App's
// key handler and the input counter installed first (ImGui's callbacks chain to them).
void start_imgui(GLFWwindow* window, App& app);
void stop_imgui();  // if started
// Whether this frame must be drawn. Nothing moved and nothing runs (App::needs_frames): the frame on
// screen is still right once ImGui has settled, a few frames after the last input or work, so an
// idle window costs no drawing.
class FrameGate {
 public:
  bool should_draw(const App& app);

 private:
  unsigned long events_drawn_ = ~0UL;  // input events counted at the last call
  int quiet_frames_ = 0;               // calls since the last input or work
};

// saved: called with the PNG's path after a screenshot was written (the page downloads it).
void draw_window_frame(GLFWwindow* window, App& app, const std::function<void(const std::string&)>& saved = {});

}  // namespace kvscope::gui
