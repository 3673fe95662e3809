// What a class can throw at the window: broken model folders (at start and from the Model field),
// empty and over-long prompts typed into the Prompt field, a tiny window, the biggest text and a
// held step key, and a display without OpenGL 3.3. Nothing may crash; every refusal says why.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "window_driver.h"

using kvscope::test::WindowProcess;
using nlohmann::json;

namespace {

auto idle_with(int steps) {
  return [steps](const json& j) { return j["steps_shown"] == steps && !j["busy"].get<bool>(); };
}

// Replaces a field's text as a person would: click into it, select all, type, Enter. The field is
// found where the newest frame drew it (a step's note or an error line moves the sidebar).
void retype(WindowProcess& w, const std::string& field, const std::string& text) {
  w.click_center(w.latest()[field]);
  w.press("ctrl+a");
  w.press("BackSpace");
  if (!text.empty()) w.type(text);
  w.press("Return");
}

std::string error_of(const json& j) { return j["error"].get<std::string>(); }
std::string input_error_of(const json& j) { return j["input_error"].get<std::string>(); }

}  // namespace

TEST_CASE("no OpenGL 3.3 or no display: one line and exit 1", "[gui][hardening]") {
  const std::string dir = kvscope::test::temp_dir();
  // Mesa offering only OpenGL 3.0, as an old driver would.
  const auto old_gl = kvscope::test::run({"/usr/bin/env", "MESA_GL_VERSION_OVERRIDE=3.0", KVSCOPE_GUI_BINARY, "--steps",
                                          "0", "--screenshot", dir + "/x.png"});
  INFO(old_gl.output);
  CHECK(old_gl.status == 1);
  CHECK(old_gl.output.find("OpenGL 3.3") != std::string::npos);
  CHECK(std::count(old_gl.output.begin(), old_gl.output.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(dir + "/x.png"));
  const auto no_display = kvscope::test::run({"/usr/bin/env", "-u", "DISPLAY", KVSCOPE_GUI_BINARY});
  INFO(no_display.output);
  CHECK(no_display.status == 1);
  CHECK(no_display.output.find("DISPLAY") != std::string::npos);
  CHECK(std::count(no_display.output.begin(), no_display.output.end(), '\n') == 1);
}

TEST_CASE("a broken model folder shows its error in the window and keeps the model on screen", "[gui][hardening]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string good = std::string(KVSCOPE_SOURCE_DIR) + "/examples/models/demo";
  const std::string broken = dir + "/broken_model";
  std::filesystem::copy(good, broken);
  std::ofstream(broken + "/config.json") << "{\"n_embd\": 64,";  // cut off mid-file
  const std::string state = dir + "/state.jsonl";
  WindowProcess w({KVSCOPE_GUI_BINARY, "--model", dir + "/missing_model", "--size", "1600x900", "--state-file", state},
                  state, dir);

  // At start: the window opens on the built-in model with the error, instead of exiting.
  json j = w.wait_for(idle_with(0));
  REQUIRE_FALSE(j.is_null());
  CHECK(error_of(j).find("missing_model does not exist") != std::string::npos);
  CHECK(error_of(j).find("built-in model") != std::string::npos);
  CHECK(j["model"] == "demo");
  w.key("space");
  j = w.wait_for(idle_with(1));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["tokens"] == json::array({"Time"}));

  // From the Model field: a broken folder leaves the model and the step on screen as they were.
  retype(w, "model_field", broken);
  j = w.wait_for([](const json& s) { return s["error"].get<std::string>().find("config.json") != std::string::npos; });
  REQUIRE_FALSE(j.is_null());
  CHECK(error_of(j).find("keeping demo") != std::string::npos);
  CHECK(j["model"] == "demo");
  CHECK(j["steps_shown"] == 1);
  w.key("F12");
  CHECK_FALSE(w.wait_for([&dir](const json&) { return std::ifstream(dir + "/kvscope-step1.png").good(); }).is_null());

  // A good folder loads, clears the error and restarts the lesson on it.
  retype(w, "model_field", good);
  j = w.wait_for([](const json& s) { return s["model"] == "demo" && s["error"] == "" && s["steps_shown"] == 0; });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["status"] == "model loaded: demo");
  w.key("space");
  CHECK_FALSE(w.wait_for(idle_with(1)).is_null());

  // A folder without a vocabulary loads, but cannot read the lesson's words: no run until ids are typed.
  const std::string ids_only = dir + "/ids_only";
  std::filesystem::copy(good, ids_only);
  std::filesystem::remove(ids_only + "/vocab.txt");
  retype(w, "model_field", ids_only);
  j = w.wait_for([](const json& s) { return s["model"] == "ids_only" && !s["busy"].get<bool>(); });
  REQUIRE_FALSE(j.is_null());
  CHECK(input_error_of(j).find("no vocabulary") != std::string::npos);
  CHECK(j["steps_shown"] == 0);
  w.key("space");  // nothing to run: refused, nothing crashes
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(w.latest()["steps_shown"] == 0);
  retype(w, "continuation_field", "flies");
  retype(w, "prompt_field", "5 6 7");
  j = w.wait_for([](const json& s) { return s["input_error"].get<std::string>().rfind("continuation:", 0) == 0; });
  REQUIRE_FALSE(j.is_null());  // words in the Then field cannot be read either
  retype(w, "continuation_field", "");
  j = w.wait_for([](const json& s) { return s["input_error"] == ""; });
  REQUIRE_FALSE(j.is_null());
  w.press("Escape");
  w.key("space");
  j = w.wait_for(idle_with(1));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["position"] == 2);
  CHECK(w.alive());
}

TEST_CASE("empty and over-long prompts are refused under the prompt field with the reason", "[gui][hardening]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl";
  WindowProcess w({KVSCOPE_GUI_BINARY, "--size", "1600x900", "--state-file", state}, state, dir);
  json j = w.wait_for(idle_with(0));
  REQUIRE_FALSE(j.is_null());
  w.key("space");
  j = w.wait_for(idle_with(1));
  REQUIRE_FALSE(j.is_null());

  retype(w, "prompt_field", "");
  j = w.wait_for([](const json& s) { return !s["input_error"].get<std::string>().empty(); });
  REQUIRE_FALSE(j.is_null());
  CHECK(input_error_of(j).find("empty") != std::string::npos);
  CHECK(j["steps_shown"] == 1);  // the run on screen stays
  CHECK(j["tokens"] == json::array({"Time"}));

  const int context = j["context_length"];
  std::string too_long = "Time";
  for (int i = 1; i <= context; ++i) too_long += " flies";
  retype(w, "prompt_field", too_long);
  j = w.wait_for([](const json& s) { return s["input_error"].get<std::string>().find("context") != std::string::npos; });
  INFO(w.latest().dump());
  REQUIRE_FALSE(j.is_null());
  CHECK(input_error_of(j).find(std::to_string(context + 1)) != std::string::npos);  // says how long it was
  CHECK(j["steps_shown"] == 1);
  w.key("F12");
  CHECK_FALSE(w.wait_for([&dir](const json&) { return std::ifstream(dir + "/kvscope-step1.png").good(); }).is_null());

  retype(w, "prompt_field", "He had to duck");
  j = w.wait_for([](const json& s) { return s["input_error"] == "" && s["steps_shown"] == 0; });
  REQUIRE_FALSE(j.is_null());
  w.press("Escape");  // leave the field, so Space steps again
  w.key("space");
  j = w.wait_for(idle_with(1));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["tokens"] == json::array({"He", "had", "to", "duck"}));
  CHECK(w.alive());
}

TEST_CASE("a tiny window, the biggest text and a held step key do not crash", "[gui][hardening]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl";
  WindowProcess w({KVSCOPE_GUI_BINARY, "--size", "1280x720", "--font-scale", "3", "--state-file", state}, state, dir);
  const json start = w.wait_for(idle_with(0));
  REQUIRE_FALSE(start.is_null());
  const double px = start["font_px"];  // --font-scale 3 is already the largest text
  for (int i = 0; i < 12; ++i) w.key("plus");  // past the largest size: clamped
  for (const std::pair<int, int>& size : {std::pair{40, 30}, {1, 1}, {200, 120}}) {
    const int width = size.first, height = size.second;  // (clang 14 cannot capture structured bindings)
    w.resize(width, height);
    const json j = w.wait_for([&](const json& s) {
      return s["window_size"][0] == double(width) && s["window_size"][1] == double(height);
    });
    INFO(width << "x" << height);
    REQUIRE_FALSE(j.is_null());
  }
  // Held Right: key repeats queue steps while one is computing; the run stops at the context's end.
  w.key_down("Right");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  w.key_up("Right");
  w.resize(1280, 720);
  json j = w.wait_for([](const json& s) { return s["window_size"][0] == 1280.0 && !s["busy"].get<bool>(); });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["steps_shown"].get<int>() > 3);
  CHECK(j["steps_shown"].get<int>() <= j["context_length"].get<int>());
  CHECK(j["font_px"].get<double>() == px);  // same window size, same clamped scale
  w.key("F12");
  const std::string shot = dir + "/kvscope-step" + std::to_string(j["steps_shown"].get<int>()) + ".png";
  CHECK_FALSE(w.wait_for([&shot](const json&) { return std::ifstream(shot).good(); }).is_null());
  CHECK(w.alive());
}

TEST_CASE("kvscope --help names every built-in lesson (the files in examples/lessons) and every preset", "[gui][hardening]") {
  const auto help = kvscope::test::run({KVSCOPE_GUI_BINARY, "--help"});
  CHECK(help.status == 0);
  int lessons = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(KVSCOPE_SOURCE_DIR) + "/examples/lessons")) {
    if (entry.path().extension() != ".json") continue;
    const std::string name = entry.path().stem().string();
    INFO(name);
    CHECK(help.output.find(name) != std::string::npos);
    ++lessons;
  }
  CHECK(lessons >= 17);
  // The presets a person can load, read from the folders of the built-in models and the two random shapes.
  for (const char* preset : {"demo", "demo-llama", "demo-mla", "gemma3-layout", "gpt2-small"}) {
    INFO(preset);
    CHECK(help.output.find(preset) != std::string::npos);
  }
}
