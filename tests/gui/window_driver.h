#pragma once
// Drives the real kvscope binary for the window tests: start it, press keys with xdotool (as a person
// would, through the X server), read the state it reports, and inspect its PNGs.
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvscope::test {

struct RunResult {
  int status = -1;     // exit status
  std::string output;  // stdout + stderr
};

RunResult run(const std::vector<std::string>& args, const std::string& cwd = "");

// The last line of a finished program's --state-file (REQUIREs one).
nlohmann::json last_state(const std::string& path);

// A kvscope window running in the background; killed (by its pid) when destroyed.
class WindowProcess {
 public:
  WindowProcess(const std::vector<std::string>& args, const std::string& state_file, const std::string& cwd);
  ~WindowProcess();
  // The newest state line, once one satisfying `ready` arrives within timeout_s; else null json.
  nlohmann::json wait_for(const std::function<bool(const nlohmann::json&)>& ready, double timeout_s = 20.0);
  nlohmann::json latest() const;
  void key(const std::string& keysym);  // xdotool key, to the focused kvscope window
  void click(double x, double y);       // left click at window coordinates (xdotool)
  void click_center(const nlohmann::json& rect);  // a [x0, y0, x1, y1] rect from the state file
  // Held for a few frames, as a hand would: ImGui 1.86's text fields read key state once per frame,
  // so a press and release inside one frame is lost to them (keysym may be a chord: "ctrl+a").
  void press(const std::string& keysym);
  void key_down(const std::string& keysym);
  void key_up(const std::string& keysym);
  void type(const std::string& text);   // as typed on the keyboard, into the focused field
  void resize(int width, int height);   // the X window itself, as a window manager would
  void scroll(double x, double y, int clicks);  // mouse wheel at window coordinates: up > 0, down < 0
  void drag(double x0, double y0, double x1, double y1);  // left button held from one point to another
  bool alive();
  long rss_kb() const;  // resident memory now (VmRSS), 0 if it is gone
  // SIGTERM, as a session logging out would: the window shuts down as if closed. Its exit status, or
  // 128 + the signal that ended it (a sanitizer abort is 134).
  int stop();

 private:
  void find_window();
  // Moves the pointer there and waits until it is (xdotool --sync); where it already is, nothing: --sync
  // would wait for a motion that never comes (xdotool gives up after about 15 s).
  void move_pointer(double x, double y);
  int pointer_x_ = -1, pointer_y_ = -1;
  pid_t pid_ = -1;
  int exit_status_ = -1;  // once it has ended
  std::string state_file_;
  std::string window_id_;
};

struct Image {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;  // top row first
  unsigned color(int x, int y) const;  // 0xRRGGBB
};

Image load_png(const std::string& path);  // REQUIREs success

// Connected regions (4-neighbour) of exactly `rgb` inside [x0,x1) x [y0,y1), of at least min_pixels.
int count_regions(const Image& image, unsigned rgb, const nlohmann::json& rect, int min_pixels = 12);
long count_pixels(const Image& image, unsigned rgb, const nlohmann::json& rect);

std::string temp_dir();  // a fresh directory for one test

// A --state-file predicate: n steps shown and no step running.
inline std::function<bool(const nlohmann::json&)> steps_shown(int n) {
  return [n](const nlohmann::json& j) { return j["steps_shown"] == n && !j["busy"].get<bool>(); };
}

}  // namespace kvscope::test
