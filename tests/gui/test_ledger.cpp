// The figure ledger: every built-in lesson at every step, at 1600x900 and 1920x1080, exported by the
// real window with --state-file; each step's frame must declare every number it draws, and every
// declared figure with a counterpart in `kvscope-cli lesson NAME --json` must equal it. Then the check
// itself, on planted mistakes, and the two frames the issue names.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/lessons/lesson.h"
#include "tests/gui/figure_ledger.h"
#include "tests/lesson_helpers.h"
#include "window_driver.h"

using nlohmann::json;
using kvscope::test::run;
using kvscope::test::temp_dir;

namespace {

// Run once per lesson and kept: every window size and view of a lesson is held against the same trace.
const json& cli_lesson(const std::string& name) {
  static std::map<std::string, json> traces;
  if (const auto found = traces.find(name); found != traces.end()) return found->second;
  const auto r = run({KVSCOPE_CLI_BINARY, "lesson", name, "--json"});
  INFO(r.output.substr(0, 400));
  REQUIRE(r.status == 0);
  const std::size_t start = r.output.find('{');  // stdout + stderr: the document starts at its brace
  REQUIRE(start != std::string::npos);
  return traces[name] = json::parse(r.output.substr(start));
}

// The settled frame of each step: the last state line showing step s + 1 steps, not busy.
std::vector<json> settled_frames(const std::string& state_file, int steps) {
  std::vector<json> frames(static_cast<std::size_t>(steps), json());
  std::ifstream in(state_file);
  std::string line;
  while (std::getline(in, line)) {
    const json j = json::parse(line);
    const int shown = j.value("steps_shown", 0);
    if (shown >= 1 && shown <= steps && !j.value("busy", true)) frames[std::size_t(shown - 1)] = j;
  }
  return frames;
}

json figure_with(const json& state, const std::string& panel, const std::string& quantity) {
  for (const json& f : state["figures"])
    if (f["panel"] == panel && f["quantity"] == quantity) return f;
  return nullptr;
}

}  // namespace

TEST_CASE("numbers_in finds the numbers a student reads, not the digits of names", "[ledger]") {
  const std::string t = "t=4 \xC2\xB7 1,280 B \xC2\xB7 3.6e-07 \xC2\xB7 0\xE2\x80\x93" "3 \xC2\xB7 fp32 L2 GPT-2 F11 (12%)";
  std::vector<std::string> found;
  for (const auto& [b, e] : kvscope::test::numbers_in(t)) found.push_back(t.substr(b, e - b));
  CHECK(found == std::vector<std::string>{"4", "1,280", "3.6e-07", "0", "3", "12"});
}

TEST_CASE("the ledger check fails on a planted wrong figure and on an undeclared number", "[gui][ledger]") {
  const std::string dir = temp_dir();
  const auto r = run({KVSCOPE_GUI_BINARY, "--lesson", "a_compressed_cache", "--export-steps", dir + "/x", "--size",
                      "1600x900", "--state-file", dir + "/s.jsonl"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json trace = cli_lesson("a_compressed_cache");
  const std::vector<json> frames = settled_frames(dir + "/s.jsonl", 2);
  json frame = frames[1];
  REQUIRE(kvscope::test::uncovered_numbers(frame).empty());
  REQUIRE(kvscope::test::figures_against_trace(frame, trace, 1).empty());
  // A wrong figure: the cached pane's cache bytes one too many.
  json wrong = frame;
  bool planted = false;
  for (json& f : wrong["figures"])
    if (f["quantity"] == "cache_bytes" && f.value("mode", "") == "cached" && !planted) {
      f["value"] = f["value"].get<double>() + 1;
      planted = true;
    }
  REQUIRE(planted);
  CHECK(kvscope::test::figures_against_trace(wrong, trace, 1).size() == 1);
  // The same frame held against the next step's trace disagrees too (a stale panel).
  CHECK_FALSE(kvscope::test::figures_against_trace(frame, trace, 2).empty());
  // A number drawn without a declaration.
  json undeclared = frame;
  undeclared["texts"].push_back({{"panel", "kv_rows"}, {"text", "t=7"}});
  const auto problems = kvscope::test::uncovered_numbers(undeclared);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("t=7") != std::string::npos);
}

// Every step of a lesson exported by the window (with `extra` options) held against the CLI's trace:
// one line per problem, all of them written to $KVSCOPE_LEDGER_REPORT when it is set.
// The run's export (--export-steps DIR/x): a PNG of the window's size for every step and no more, and a
// trace.json whose steps are the CLI's: the same next tokens, lines and details (less the memory wall's
// measured milliseconds, which differ run to run). Written whole, no partial folder left beside it.
std::vector<std::string> export_problems(const std::string& lesson, const std::string& dir, const std::string& size,
                                         const json& trace) {
  std::vector<std::string> problems;
  const int steps = int(trace["steps"].size());
  const int width = std::stoi(size), height = std::stoi(size.substr(size.find('x') + 1));
  for (int s = 0; s <= steps; ++s) {
    char name[32];
    std::snprintf(name, sizeof name, "/x/step_%02d.png", s);
    const bool exists = std::filesystem::exists(dir + name);
    if (s == steps) {
      if (exists) problems.push_back(std::string("export: ") + name + " past the lesson's last step");
      continue;
    }
    if (!exists) {
      problems.push_back(std::string("export: no ") + name);
      continue;
    }
    const kvscope::test::Image image = kvscope::test::load_png(dir + name);
    if (image.width != width || image.height != height) problems.push_back(std::string("export: ") + name + " is not " + size);
  }
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().find(".partial-") != std::string::npos) problems.push_back("export: partial folder left");
  std::ifstream in(dir + "/x/trace.json");
  const json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("steps") || doc["steps"].size() != std::size_t(steps) ||
      doc["images"].size() != std::size_t(steps) || doc["lesson"]["name"] != lesson) {
    problems.push_back("export: trace.json is not the lesson's " + std::to_string(steps) + " steps");
    return problems;
  }
  const kvscope::Lesson l = kvscope::builtin_lesson(lesson);
  auto lines = [&](const json& step, const char* key) {
    return ::test::reproducible_lines(l, step[key].get<std::vector<std::string>>());
  };
  for (int s = 0; s < steps; ++s) {
    const json &got = doc["steps"][std::size_t(s)], &want = trace["steps"][std::size_t(s)];
    const std::string at = "export step " + std::to_string(s) + ": ";
    if (got["step"] != s) problems.push_back(at + "numbered " + got["step"].dump());
    if (got["next_id"] != want["next_id"]) problems.push_back(at + "next token " + got["next_id"].dump() + ", the CLI's " + want["next_id"].dump());
    for (const char* key : {"lines", "details"})
      if (lines(got, key) != lines(want, key)) problems.push_back(at + key + " differ from the CLI's");
  }
  return problems;
}

std::vector<std::string> lesson_problems(const std::string& lesson, const std::string& size,
                                         const std::vector<std::string>& extra = {}) {
  const json& trace = cli_lesson(lesson);
  const int steps = int(trace["steps"].size());
  const std::string dir = temp_dir();
  std::vector<std::string> args = {KVSCOPE_GUI_BINARY, "--lesson", lesson, "--export-steps", dir + "/x", "--size", size,
                                   "--state-file", dir + "/s.jsonl"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run(args);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::vector<json> frames = settled_frames(dir + "/s.jsonl", steps);
  std::vector<std::string> problems = export_problems(lesson, dir, size, trace);
  for (int s = 0; s < steps; ++s) {
    const json& frame = frames[std::size_t(s)];
    if (frame.is_null()) {
      problems.push_back("step " + std::to_string(s) + ": no settled frame recorded");
      continue;
    }
    for (const std::string& p : kvscope::test::uncovered_numbers(frame)) problems.push_back("step " + std::to_string(s) + ": " + p);
    for (const std::string& p : kvscope::test::figures_against_trace(frame, trace, s)) problems.push_back(p);
  }
  if (const char* report = std::getenv("KVSCOPE_LEDGER_REPORT")) {  // every problem, for whoever fixes them
    std::ofstream out(report, std::ios::app);
    for (const std::string& p : problems) out << lesson << " " << size << " " << p << "\n";
  }
  return problems;
}

void check_no_problems(const std::vector<std::string>& problems) {
  std::ostringstream list;
  for (std::size_t i = 0; i < problems.size() && i < 30; ++i) list << problems[i] << "\n";
  INFO(problems.size() << " problems:\n" << list.str());
  CHECK(problems.empty());
}

TEST_CASE("the export check fails on a wrong size, a different next token or line, and a missing step", "[gui][ledger]") {
  const std::string dir = temp_dir();
  const auto r = run({KVSCOPE_GUI_BINARY, "--lesson", "a_compressed_cache", "--export-steps", dir + "/x", "--size", "1600x900"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json& trace = cli_lesson("a_compressed_cache");
  const std::size_t steps = trace["steps"].size();
  REQUIRE(steps >= 2);
  REQUIRE(export_problems("a_compressed_cache", dir, "1600x900", trace).empty());
  CHECK(export_problems("a_compressed_cache", dir, "1920x1080", trace).size() == steps);  // every PNG
  json other = trace;
  other["steps"][1]["next_id"] = other["steps"][1]["next_id"].get<int>() + 1;
  CHECK(export_problems("a_compressed_cache", dir, "1600x900", other).size() == 1);
  other = trace;
  other["steps"][0]["details"].push_back("a line the window did not export");
  CHECK(export_problems("a_compressed_cache", dir, "1600x900", other).size() == 1);
  std::filesystem::remove(dir + "/x/step_01.png");
  CHECK(export_problems("a_compressed_cache", dir, "1600x900", trace).size() == 1);
}

TEST_CASE("every lesson step declares every number it draws, and each agrees with the CLI's trace", "[gui][ledger]") {
#ifdef KVSCOPE_ONE_WINDOW_SIZE
  const std::vector<const char*> sizes = {"1920x1080"};
#else
  const std::vector<const char*> sizes = {"1600x900", "1920x1080"};
#endif
  for (const char* size : sizes)
    for (const kvscope::Lesson& lesson : kvscope::builtin_lessons()) {
      INFO(lesson.name << " at " << size);
      check_no_problems(lesson_problems(lesson.name, size));
    }
}

TEST_CASE("views chosen by hand declare their numbers too: rotation, heads, quantized, calculator", "[gui][ledger]") {
  const std::pair<const char*, const char*> runs[] = {{"same_word_rope", "rotation"}, {"local_and_global_layers", "rotation"},
                                                      {"attention_sinks", "heads"}, {"who_gets_evicted", "quantized"},
                                                      {"time_flies_fast", "calculator"}};
  for (const auto& [lesson, view] : runs) {
    INFO(lesson << " --view " << view);
    check_no_problems(lesson_problems(lesson, "1600x900", {"--view", view}));
  }
}

TEST_CASE("the views that show what captions claim are drawn at their lesson steps", "[gui][ledger]") {
  auto frame = [](const std::string& lesson, int step) {
    const std::string dir = temp_dir();
    const auto r = run({KVSCOPE_GUI_BINARY, "--lesson", lesson, "--steps", std::to_string(step), "--size", "1920x1080",
                        "--screenshot", dir + "/x.png", "--state-file", dir + "/s.json"});
    INFO(r.output);
    REQUIRE(r.status == 0);
    return kvscope::test::last_state(dir + "/s.json");
  };
  auto count = [](const json& state, const std::string& panel, const std::string& quantity) {
    int n = 0;
    for (const json& f : state["figures"]) n += f["panel"] == panel && f["quantity"] == quantity;
    return n;
  };
  // GQA: both query heads of KV head 1 weight the same two rows (fewer_kv_heads, step 1).
  const json heads = frame("fewer_kv_heads", 1);
  CHECK(heads["below_panes"] == "heads");
  CHECK(count(heads, "query_group", "attention_weight") == 4);
  // Quantized: the oldest and newest rows' pairs (smaller_numbers, step 2).
  const json quantized = frame("smaller_numbers", 2);
  CHECK(quantized["below_panes"] == "quantized");
  CHECK(count(quantized, "quantized", "value_scale") == 2);
  CHECK(count(quantized, "quantized", "key_scale") == 1);  // position 0's group is coded; the newest waits in fp16
  // Rotary: three scores, two at distance 0 (same_word_rope, step 1).
  const json rotary = frame("same_word_rope", 1);
  CHECK(count(rotary, "same_word", "score") == 3);
  // Policies: both divergences charted, every key column drawn (attention_sinks at its key step).
  const json sinks = frame("attention_sinks", 6);
  CHECK(count(sinks, "chart", "series_name") >= 2);
  CHECK(sinks["heatmap_cells"][1][1] == sinks["position"].get<int>() + 1);
  // The memory wall at its last length: both charts, and the table's engine count and closed form for every
  // cache, the whole table inside the view (memory_wall, step 3).
  const json wall = frame("memory_wall", 3);
  CHECK(wall["below_panes"] == "memory_wall");
  CHECK(count(wall, "memory_wall", "cache_bytes") == 2 * 6);
  CHECK(count(wall, "memory_wall", "cache_name") == 6);  // the table is the legend: a row per cache, its mark and name
  CHECK(count(wall, "memory_wall", "ms_per_token") == 4);  // bits:8 and latent are not timed
  REQUIRE(wall["memory_wall_table"].size() == 1);
  CHECK(wall["memory_wall_table"][0][3].get<double>() <= wall["lesson_view"][3].get<double>() + 0.5);
  // One byte convention on every screen: decimal units, never KiB.
  for (const json* state : {&heads, &quantized, &rotary, &sinks, &wall})
    for (const json& t : (*state)["texts"]) CHECK(t["text"].get<std::string>().find("iB") == std::string::npos);
}

TEST_CASE("the frames the issue names declare the engine's numbers", "[gui][ledger]") {
  const std::string dir = temp_dir();
  SECTION("a compressed cache, step 1: the loaded model's cache bytes are 640 wherever they are shown") {
    const auto r = run({KVSCOPE_GUI_BINARY, "--lesson", "a_compressed_cache", "--steps", "1", "--screenshot",
                        dir + "/a.png", "--state-file", dir + "/s.json"});
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json state = kvscope::test::last_state(dir + "/s.json");
    int loaded = 0;
    for (const json& f : state["figures"])
      if (f["quantity"] == "cache_bytes" && f.value("model", "") == "loaded" && f.value("positions", 2) == 2) {
        INFO(f.dump());
        CHECK(f["value"] == 640);
        ++loaded;
      }
    CHECK(loaded >= 2);  // the calculator's engine check and the lesson line
  }
  SECTION("a window of 4 at step 6: the cached pane holds 4 rows") {
    const auto r = run({KVSCOPE_GUI_BINARY, "--window", "4", "--prompt", "Time", "--continuation", "", "--steps", "6",
                        "--screenshot", dir + "/w.png", "--state-file", dir + "/s.json"});
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json state = kvscope::test::last_state(dir + "/s.json");
    const json held = figure_with(state, "kv_rows", "rows_held");
    REQUIRE(held.is_object());
    CHECK(held["value"] == 4);
    CHECK(held["mode"] == "cached");
    CHECK(kvscope::test::uncovered_numbers(state).empty());
  }
}
