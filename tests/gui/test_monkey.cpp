// A monkey at the keyboard and mouse: random keys, clicks, drags, wheel turns, window sizes, themes,
// text sizes, lessons and models for KVSCOPE_MONKEY_SECONDS (default 60 in the
// sanitizer build, 20 in the release build), seeded by KVSCOPE_MONKEY_SEED
// (printed, to replay a failure). Throughout: the window stays alive (a sanitizer report aborts it),
// whenever it is idle the step shown is the session's newest, memory stays bounded, and at the end it
// still answers a key and shuts down cleanly on SIGTERM (the leak check runs then, in the asan build).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/lesson_helpers.h"
#include "window_driver.h"

using kvscope::test::WindowProcess;
using nlohmann::json;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

bool idle(const json& j) { return !j.is_null() && !j["busy"].get<bool>() && !j["loading_model"].get<bool>(); }

}  // namespace

TEST_CASE("monkey: random input for a minute never crashes, hangs or loses track of the step", "[monkey]") {
  const int seconds = env_int("KVSCOPE_MONKEY_SECONDS", KVSCOPE_MONKEY_DEFAULT_SECONDS);
  const unsigned seed = unsigned(env_int("KVSCOPE_MONKEY_SEED", int(std::random_device{}() & 0x7fffffff)));
  std::printf("monkey: %d s, KVSCOPE_MONKEY_SEED=%u\n", seconds, seed);
  INFO("replay with KVSCOPE_MONKEY_SEED=" << seed);
  std::mt19937 rng(seed);
  auto pick = [&rng](int n) { return int(rng() % unsigned(n)); };
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl";
  WindowProcess w({KVSCOPE_GUI_BINARY, "--size", "1280x720", "--state-file", state}, state, dir);
  REQUIRE_FALSE(w.wait_for(idle, 60).is_null());
  int width = 1280, height = 720;
  const std::vector<std::string> keys = {"space", "space", "Right", "Right", "Left", "BackSpace", "r", "p", "c", "o",
                                         "1",     "2",     "plus",  "minus", "Tab",  "Return",    "Escape", "a"};
  const std::vector<kvscope::Lesson> lessons_in_menu = kvscope::builtin_lessons();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  long peak_kb = 0;
  int actions = 0, checks = 0;
  while (std::chrono::steady_clock::now() < end) {
    REQUIRE(w.alive());
    const double x = pick(width), y = pick(height);
    switch (pick(10)) {
      case 0: case 1: case 2: w.key(keys[std::size_t(pick(int(keys.size())))]); break;
      case 3: case 4: w.click(x, y); break;
      case 5: w.drag(x, y, pick(width), pick(height)); break;
      case 6: w.scroll(x, y, (pick(3) + 1) * (pick(2) ? 1 : -1)); break;
      case 7:  // a menu and one of its items (Lessons or Models; the models only when idle)
        if (const json j = w.latest(); idle(j)) {
          const bool lessons = pick(3) != 0;
          w.click_center(j[lessons ? "menu_lessons" : "menu_models"]);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          const json open = w.latest();
          if (!open.is_null() && !open["menu_items"].empty()) {
            const std::size_t item = std::size_t(pick(int(open["menu_items"].size())));
            // The Lessons menu lists the built-in lessons in order; a sanitizer build leaves out the memory
            // wall (its steps take minutes under ASan: tests/lesson_helpers.h).
            const bool skip = lessons && item < lessons_in_menu.size() && test::too_long_for_sanitizers(lessons_in_menu[item]);
            if (!skip) w.click_center(open["menu_items"][item]);
          }
        }
        break;
      case 8:
        if (pick(4) == 0) {
          width = 640 + pick(1281), height = 480 + pick(601);
          w.resize(width, height);
        } else {
          w.key(pick(2) ? "space" : "Left");
        }
        break;
      case 9: {  // the invariant, whenever nothing is running
        const json j = w.latest();
        if (idle(j) && j["session_steps"].get<int>() >= 0) {
          CHECK(j["session_steps"] == j["steps_shown"]);
          ++checks;
        }
        break;
      }
    }
    ++actions;
    peak_kb = std::max(peak_kb, w.rss_kb());
  }
  std::printf("monkey: %d actions, %d idle checks, peak RSS %ld MB\n", actions, checks, peak_kb / 1024);
  // Still answering: reset brings back the empty first step; then it shuts down cleanly.
  REQUIRE_FALSE(w.wait_for(idle, 120).is_null());
  // Leave any text field or menu first (keys typed into a field are text), a few frames apart as a
  // hand would: a slow sanitizer frame can take Escape and R together, and R is then still text.
  json reset = nullptr;
  for (int attempt = 0; attempt < 5 && reset.is_null(); ++attempt) {
    w.key("Escape");
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    w.key("r");
    reset = w.wait_for([](const json& j) { return idle(j) && j["steps_shown"] == 0; }, 15);
  }
  CHECK_FALSE(reset.is_null());
  CHECK(checks > 0);
  CHECK(peak_kb < 6L * 1024 * 1024);  // bounded (the sanitizer build's shadow memory included)
  CHECK(w.stop() == 0);
}
