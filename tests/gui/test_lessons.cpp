// Every built-in lesson in the real window under Xvfb: its key step readable at 1600x900 and 1920x1080,
// stepped with the keyboard, and picked from the Lessons menu with the mouse; export all or nothing.
// (Each lesson run to its end and exported, its trace equal to the CLI's, is the figure ledger's run:
// test_ledger.cpp.) The window's numbers are core's: compared with an independent LessonRun here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "core/lessons/lesson_run.h"
#include "tests/lesson_helpers.h"
#include "window_driver.h"

using kvscope::test::run;
using kvscope::test::temp_dir;
using kvscope::test::last_state;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The built-in model a lesson names (demo or demo-llama), loaded once each.
const kvscope::LoadedModel& model_of(const kvscope::Lesson& lesson) {
  static std::map<std::string, kvscope::LoadedModel> loaded;
  auto it = loaded.find(lesson.preset);
  if (it == loaded.end()) it = loaded.emplace(lesson.preset, kvscope::load_preset(lesson.preset)).first;
  return it->second;
}

// r lies in outer (both [x0, y0, x1, y1]).
bool within(const json& r, const json& outer) {
  return r[0].get<double>() >= outer[0].get<double>() && r[1].get<double>() >= outer[1].get<double>() &&
         r[2].get<double>() <= outer[2].get<double>() && r[3].get<double>() <= outer[3].get<double>();
}

bool inside(const json& r, int w, int h) {
  return r[0].get<double>() >= 0 && r[1].get<double>() >= 0 && r[2].get<double>() <= w && r[3].get<double>() <= h;
}


int partial_folders(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().find(".partial-") != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("export is all or nothing; bad export arguments change nothing", "[gui][lessons]") {
  const std::string parent = temp_dir();
  const std::string full = parent + "/full";
  fs::create_directory(full);
  std::ofstream(full + "/keep.txt") << "mine";
  const auto taken = run({KVSCOPE_GUI_BINARY, "--lesson", "time_flies_fast", "--export-steps", full});
  CHECK(taken.status == 2);
  CHECK(taken.output.find("not empty") != std::string::npos);
  CHECK(fs::exists(full + "/keep.txt"));
  CHECK_FALSE(fs::exists(full + "/step_00.png"));
  const auto orphan = run({KVSCOPE_GUI_BINARY, "--export-steps", parent + "/no/such/parent/x"});
  CHECK(orphan.status == 2);
  std::ofstream(parent + "/broken.json") << "{\"prompt\": \"Time\", \"steps\": 7}";
  const auto broken = run({KVSCOPE_GUI_BINARY, "--lesson", parent + "/broken.json", "--export-steps", parent + "/b"});
  CHECK(broken.status == 1);
  CHECK(broken.output.find("broken.json: \"steps\" must be an array") != std::string::npos);
  CHECK(std::count(broken.output.begin(), broken.output.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(parent + "/b"));
  const auto both = run({KVSCOPE_GUI_BINARY, "--export-steps", parent + "/c", "--steps", "1", "--screenshot", "x.png"});
  CHECK(both.status == 2);
  // An empty folder is filled, not refused.
  const std::string empty = parent + "/empty";
  fs::create_directory(empty);
  CHECK(run({KVSCOPE_GUI_BINARY, "--lesson", "time_flies_fast", "--export-steps", empty}).status == 0);
  CHECK(fs::exists(empty + "/step_02.png"));
  CHECK(fs::exists(empty + "/trace.json"));
  CHECK(partial_folders(parent) == 0);
}

TEST_CASE("each lesson's key step: presenter text, nothing clipped, at 1600x900 and 1920x1080", "[gui][lessons]") {
  for (const kvscope::Lesson& lesson : kvscope::builtin_lessons()) {
    if (test::too_long_for_sanitizers(lesson)) continue;
    kvscope::LessonRun run_info(lesson, model_of(lesson));
    // A policy lesson's key step is measured over its steps; the others' is declared (the memory wall's
    // steps, which take seconds, need not run here).
    if (lesson.kind == kvscope::LessonKind::CachePolicy)
      for (int s = 0; s < run_info.lesson_steps(); ++s) run_info.step();
#ifdef KVSCOPE_ONE_WINDOW_SIZE
    const std::vector<std::pair<int, int>> sizes = {{1920, 1080}};
#else
    const std::vector<std::pair<int, int>> sizes = {{1600, 900}, {1920, 1080}};
#endif
    for (const auto& [w, h] : sizes) {
      INFO(lesson.name << " at " << w << "x" << h);
      const std::string dir = temp_dir();
      const std::string size = std::to_string(w) + "x" + std::to_string(h);
      const auto r = run({KVSCOPE_GUI_BINARY, "--lesson", lesson.name, "--steps", std::to_string(run_info.key_step()), "--size",
                          size, "--screenshot", dir + "/key.png", "--state-file", dir + "/state.jsonl"});
      INFO(r.output);
      REQUIRE(r.status == 0);
      const json s = last_state(dir + "/state.jsonl");
      CHECK(s["step"] == run_info.key_step());
      CHECK(s["error"] == "");
      CHECK(s["lesson"]["name"] == lesson.name);
      CHECK(s["lines"].size() >= 1);
      CHECK(s["font_px"].get<double>() >= h / 50.0);  // 22 px at 1080 lines
      CHECK(s["caption_overflow"].get<double>() == 0.0);  // the caption box shows all its text
      for (const char* key : {"pane_uncached", "pane_cached", "caption_box"}) CHECK(inside(s[key], w, h));
      // Every sidebar chart keeps a line of text between its top label and its "0", and none is cut at the
      // bottom (its step labels below the plot stay on screen): one chart when two would not fit.
      CHECK(s["chart_plots"].size() >= 1);
      for (const json& plot : s["chart_plots"]) {
        CHECK(plot[3].get<double>() - plot[1].get<double>() >= s["font_px"].get<double>());
        CHECK(plot[3].get<double>() + s["font_px"].get<double>() * 1.2 <= h);
      }
      // A lesson view under the panes (the kind's, or one its step chose), else the heatmaps.
      const bool view = lesson.kind == kvscope::LessonKind::SameWord || lesson.kind == kvscope::LessonKind::Batch ||
                        s["below_panes"] != "heatmaps";
      if (view) {
        CHECK(inside(s["lesson_view"], w, h));
        CHECK(s["lesson_view"][3].get<double>() - s["lesson_view"][1].get<double>() > h * 0.2);
        // The calculator's line labels stay in its view, a line apart (small caches all end near 0).
        const json& labels = s["calculator_labels"];
        for (std::size_t i = 0; i < labels.size(); ++i) {
          CHECK(within(labels[i], s["lesson_view"]));
          if (i > 0) CHECK(labels[i][1].get<double>() >= labels[i - 1][3].get<double>() - 0.5);
        }
      } else {
        CHECK(inside(s["heatmap_cached"], w, h));
        CHECK(s["heatmap_cached"][2].get<double>() - s["heatmap_cached"][0].get<double>() > 60);
      }
    }
  }
}

TEST_CASE("keyboard: a lesson steps forward to its end and back", "[gui][lessons]") {
  const std::string dir = temp_dir();
  const std::string state = dir + "/state.jsonl";
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--lesson", "reusing_a_prefix", "--size", "1280x720", "--state-file", state},
                                 state, dir);
  const auto shown = kvscope::test::steps_shown;
  REQUIRE_FALSE(w.wait_for(shown(0)).is_null());
  for (int i = 0; i < 11; ++i) w.key("Right");  // two more than the script has
  json j = w.wait_for(shown(9));
  REQUIRE_FALSE(j.is_null());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  j = w.latest();
  CHECK(j["steps_shown"] == 9);  // the script's end: no step past it
  CHECK(j["step"] == 8);
  CHECK(j["lines"].back().get<std::string>().rfind("Both questions:", 0) == 0);
  w.key("Left");
  j = w.wait_for(shown(8));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["step"] == 7);
  w.key("Left");
  w.key("Left");
  j = w.wait_for(shown(6));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["lines"][0].get<std::string>().rfind("Question 2 ", 0) == 0);  // back at question 2's first step
  CHECK(w.alive());
}

TEST_CASE("the Lessons menu lists the built-in lessons and opens one; a broken file shows its error", "[gui][lessons]") {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/broken.json") << "{\"prompt\": \"Time\", \"kind\": \"magic\"}";
  const std::string state = dir + "/state.jsonl";
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--lesson", dir + "/broken.json", "--size", "1600x900", "--state-file", state},
                                 state, dir);
  json j = w.wait_for([](const json& s) { return s["steps_shown"] == 0; });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["error"].get<std::string>().find("broken.json: unknown \"kind\" \"magic\"") != std::string::npos);
  CHECK(j["lesson"]["name"] == "time_flies_fast");  // the built-in lesson instead
  const json& m = j["menu_lessons"];
  w.click((m[0].get<double>() + m[2].get<double>()) / 2, (m[1].get<double>() + m[3].get<double>()) / 2);
  const std::size_t n_lessons = kvscope::builtin_lessons().size();  // one item each
  j = w.wait_for([n_lessons](const json& s) { return s["menu_items"].size() == n_lessons; });
  REQUIRE_FALSE(j.is_null());
  const json& item = j["menu_items"][2];  // Same word, two positions
  w.click(item[0].get<double>() + 20, (item[1].get<double>() + item[3].get<double>()) / 2);
  j = w.wait_for([](const json& s) { return s["lesson"]["name"] == "same_word_two_positions"; });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["error"] == "");
  CHECK(j["steps_shown"] == 0);
  w.key("space");
  w.key("space");
  j = w.wait_for([](const json& s) { return s["steps_shown"] == 2 && !s["busy"].get<bool>(); });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["lines"][0].get<std::string>().find("positions 3 and 6") != std::string::npos);
  CHECK(w.alive());
}

TEST_CASE("--view rotation holds in a lesson whose steps set the calculator", "[gui][lessons]") {
  const std::string dir = temp_dir();
  const auto r = run({KVSCOPE_GUI_BINARY, "--lesson", "local_and_global_layers", "--view", "rotation", "--steps", "2",
                      "--screenshot", dir + "/x.png", "--state-file", dir + "/state.jsonl"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json s = last_state(dir + "/state.jsonl");
  CHECK(s["step"] == 2);
  CHECK(s["rotation"] == true);     // the person's choice
  CHECK(s["calculator"] == false);  // not the lesson's step setting
  // Without --view the lesson's steps show the calculator.
  const auto plain = run({KVSCOPE_GUI_BINARY, "--lesson", "local_and_global_layers", "--steps", "2", "--screenshot",
                          dir + "/y.png", "--state-file", dir + "/plain.jsonl"});
  REQUIRE(plain.status == 0);
  CHECK(last_state(dir + "/plain.jsonl")["calculator"] == true);
}

TEST_CASE("a policy lesson opens at its measured key step; Back and Step still work from there", "[gui][lessons]") {
  const kvscope::Lesson lesson = kvscope::builtin_lesson("attention_sinks");
  kvscope::LessonRun expected(lesson, model_of(lesson));
  for (int s = 0; s < expected.lesson_steps(); ++s) expected.step();
  const int key = expected.key_step();
  REQUIRE(key < expected.lesson_steps() - 1);  // else going back would show nothing
  const std::string dir = temp_dir();
  kvscope::test::WindowProcess window({KVSCOPE_GUI_BINARY, "--lesson", lesson.name, "--size", "1600x900", "--state-file", dir + "/s.jsonl"},
                                      dir + "/s.jsonl", dir);
  // On the way there every frame is busy (the next step or back starts as the last ends): the first idle
  // frame is where the opening stopped.
  const json opened = window.wait_for([](const json& j) { return !j["busy"].get<bool>() && j["steps_shown"].get<int>() > 0; }, 60.0);
  REQUIRE(opened.is_object());
  CHECK(opened["step"] == key);
  CHECK(opened["steps_shown"] == key + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CHECK(window.latest()["steps_shown"] == key + 1);  // it stays there
  window.key("Left");
  CHECK(window.wait_for(kvscope::test::steps_shown(key)).is_object());
  window.key("Right");
  CHECK(window.wait_for(kvscope::test::steps_shown(key + 1)).is_object());
}
