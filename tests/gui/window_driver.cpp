#include "window_driver.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <stb_image.h>

namespace kvscope::test {

namespace {

std::vector<char*> argv_of(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

RunResult run(const std::vector<std::string>& args, const std::string& cwd) {
  std::string command = cwd.empty() ? "" : "cd " + shell_quote(cwd) + " && ";
  for (const std::string& a : args) command += shell_quote(a) + " ";
  command += "2>&1";
  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

WindowProcess::WindowProcess(const std::vector<std::string>& args, const std::string& state_file, const std::string& cwd)
    : state_file_(state_file) {
  std::remove(state_file.c_str());
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    std::vector<char*> argv = argv_of(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

WindowProcess::~WindowProcess() { stop(); }

namespace {
int exit_status_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
}  // namespace

int WindowProcess::stop() {
  if (pid_ <= 0) return exit_status_;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  exit_status_ = exit_status_of(status);
  return exit_status_;
}

long WindowProcess::rss_kb() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

bool WindowProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;  // ended: keep how
  exit_status_ = exit_status_of(status);
  return false;
}

namespace {
std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}
}  // namespace

nlohmann::json last_state(const std::string& path) {
  const std::string last = last_line(path);
  REQUIRE_FALSE(last.empty());
  return nlohmann::json::parse(last);
}

nlohmann::json WindowProcess::latest() const {
  const std::string last = last_line(state_file_);
  if (last.empty()) return nullptr;
  try {
    return nlohmann::json::parse(last);
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // a line being written
  }
}

nlohmann::json WindowProcess::wait_for(const std::function<bool(const nlohmann::json&)>& ready, double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    nlohmann::json j = latest();
    if (!j.is_null() && ready(j)) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return nullptr;
}

void WindowProcess::find_window() {
  if (!window_id_.empty()) return;
  RunResult r = run({KVSCOPE_XDOTOOL, "search", "--sync", "--pid", std::to_string(pid_)});
  REQUIRE(r.status == 0);
  window_id_ = r.output.substr(0, r.output.find('\n'));
  // No window manager under Xvfb: give the window the keyboard focus and put the pointer in it.
  run({KVSCOPE_XDOTOOL, "windowfocus", "--sync", window_id_});
}

void WindowProcess::key(const std::string& keysym) {
  find_window();
  const RunResult r = run({KVSCOPE_XDOTOOL, "key", "--clearmodifiers", keysym});
  REQUIRE(r.status == 0);
}

void WindowProcess::click_center(const nlohmann::json& rect) {
  click((rect[0].get<double>() + rect[2].get<double>()) / 2, (rect[1].get<double>() + rect[3].get<double>()) / 2);
}

void WindowProcess::press(const std::string& keysym) {
  key_down(keysym);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  key_up(keysym);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

void WindowProcess::key_down(const std::string& keysym) {
  find_window();
  REQUIRE(run({KVSCOPE_XDOTOOL, "keydown", keysym}).status == 0);
}

void WindowProcess::key_up(const std::string& keysym) {
  find_window();
  REQUIRE(run({KVSCOPE_XDOTOOL, "keyup", keysym}).status == 0);
}

void WindowProcess::type(const std::string& text) {
  find_window();
  REQUIRE(run({KVSCOPE_XDOTOOL, "type", "--delay", "20", text}).status == 0);
}

void WindowProcess::resize(int width, int height) {
  find_window();
  REQUIRE(run({KVSCOPE_XDOTOOL, "windowsize", window_id_, std::to_string(width), std::to_string(height)}).status == 0);
}

void WindowProcess::move_pointer(double x, double y) {
  find_window();
  if (int(x) == pointer_x_ && int(y) == pointer_y_) return;
  REQUIRE(run({KVSCOPE_XDOTOOL, "mousemove", "--sync", "--window", window_id_, std::to_string(int(x)), std::to_string(int(y))})
              .status == 0);
  pointer_x_ = int(x), pointer_y_ = int(y);
}

void WindowProcess::click(double x, double y) {
  move_pointer(x, y);
  // Press and release a few frames apart, as a hand would.
  REQUIRE(run({KVSCOPE_XDOTOOL, "mousedown", "1"}).status == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  REQUIRE(run({KVSCOPE_XDOTOOL, "mouseup", "1"}).status == 0);
}

void WindowProcess::scroll(double x, double y, int clicks) {
  move_pointer(x, y);
  REQUIRE(run({KVSCOPE_XDOTOOL, "click", "--repeat", std::to_string(std::abs(clicks)), "--delay", "30",
               clicks > 0 ? "4" : "5"}).status == 0);
}

void WindowProcess::drag(double x0, double y0, double x1, double y1) {
  move_pointer(x0, y0);
  REQUIRE(run({KVSCOPE_XDOTOOL, "mousedown", "1"}).status == 0);
  for (int i = 1; i <= 4; ++i) {  // a hand moves through the points between
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    run({KVSCOPE_XDOTOOL, "mousemove", "--window", window_id_, std::to_string(int(x0 + (x1 - x0) * i / 4)),
         std::to_string(int(y0 + (y1 - y0) * i / 4))});
  }
  pointer_x_ = int(x1), pointer_y_ = int(y1);
  REQUIRE(run({KVSCOPE_XDOTOOL, "mouseup", "1"}).status == 0);
}

unsigned Image::color(int x, int y) const {
  const unsigned char* p = rgb.data() + (std::size_t(y) * width + x) * 3;
  return (unsigned(p[0]) << 16) | (unsigned(p[1]) << 8) | p[2];
}

Image load_png(const std::string& path) {
  Image image;
  int channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &image.width, &image.height, &channels, 3);
  REQUIRE(data != nullptr);
  image.rgb.assign(data, data + std::size_t(image.width) * image.height * 3);
  stbi_image_free(data);
  return image;
}

namespace {
void bounds(const Image& image, const nlohmann::json& rect, int& x0, int& y0, int& x1, int& y1) {
  x0 = std::max(0, int(rect[0].get<double>()));
  y0 = std::max(0, int(rect[1].get<double>()));
  x1 = std::min(image.width, int(rect[2].get<double>()));
  y1 = std::min(image.height, int(rect[3].get<double>()));
}
}  // namespace

long count_pixels(const Image& image, unsigned rgb, const nlohmann::json& rect) {
  int x0, y0, x1, y1;
  bounds(image, rect, x0, y0, x1, y1);
  long n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) n += image.color(x, y) == rgb ? 1 : 0;
  return n;
}

int count_regions(const Image& image, unsigned rgb, const nlohmann::json& rect, int min_pixels) {
  int x0, y0, x1, y1;
  bounds(image, rect, x0, y0, x1, y1);
  const int w = x1 - x0, h = y1 - y0;
  if (w <= 0 || h <= 0) return 0;
  std::vector<char> seen(std::size_t(w) * h, 0);
  int regions = 0;
  std::vector<std::pair<int, int>> stack;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      if (seen[std::size_t(y - y0) * w + (x - x0)] || image.color(x, y) != rgb) continue;
      int size = 0;
      stack.push_back({x, y});
      seen[std::size_t(y - y0) * w + (x - x0)] = 1;
      while (!stack.empty()) {
        auto [cx, cy] = stack.back();
        stack.pop_back();
        ++size;
        const int nx[4] = {cx + 1, cx - 1, cx, cx}, ny[4] = {cy, cy, cy + 1, cy - 1};
        for (int i = 0; i < 4; ++i) {
          if (nx[i] < x0 || nx[i] >= x1 || ny[i] < y0 || ny[i] >= y1) continue;
          char& s = seen[std::size_t(ny[i] - y0) * w + (nx[i] - x0)];
          if (s || image.color(nx[i], ny[i]) != rgb) continue;
          s = 1;
          stack.push_back({nx[i], ny[i]});
        }
      }
      regions += size >= min_pixels ? 1 : 0;
    }
  return regions;
}

std::string temp_dir() {
  char pattern[] = "/tmp/kvscope-gui-test-XXXXXX";
  const char* dir = mkdtemp(pattern);
  REQUIRE(dir != nullptr);
  return dir;
}

}  // namespace kvscope::test
