// kvscope-cli lesson as a teacher runs it: every built-in lesson to its end with the same captions and
// numbers core computes, JSON for scripts, and one-line errors for broken files.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "cli_runner.h"
#include "core/lessons/caption.h"
#include "core/lessons/lesson_run.h"
#include "lesson_helpers.h"

using nlohmann::json;
using namespace kvscope;

TEST_CASE("lesson: every built-in lesson prints each step's caption, computed lines and note", "[cli][lesson]") {
  for (const Lesson& lesson : builtin_lessons()) {
    if (test::too_long_for_sanitizers(lesson)) continue;
    INFO(lesson.name);
    const LoadedModel model = load_preset(lesson.preset);  // the lesson's own built-in model, as the CLI picks
    const test::CliResult r = test::run_cli("lesson " + lesson.name);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    // An independent run in this process: the CLI must print the same words and numbers.
    LessonRun run(lesson, model);
    for (int s = 0; s < run.lesson_steps(); ++s) run.step();
    for (int s = 0; s < run.steps_done(); ++s) {
      INFO("step " << s);
      const Caption c = make_caption(run.history()[std::size_t(s)]);
      CHECK(r.out.find(c.title) != std::string::npos);
      CHECK(r.out.find(c.uncached) != std::string::npos);
      for (const std::string& line : test::reproducible_lines(lesson, run.reports()[std::size_t(s)].lines))
        CHECK(r.out.find(line) != std::string::npos);
      for (const std::string& line : test::reproducible_lines(lesson, run.reports()[std::size_t(s)].details))
        CHECK(r.out.find(line) != std::string::npos);
      if (s < int(lesson.steps.size())) CHECK(r.out.find(lesson.steps[std::size_t(s)].note) != std::string::npos);
    }
    CHECK(r.out.find("Step " + std::to_string(run.lesson_steps())) == std::string::npos);  // it stops at the end
  }
}

TEST_CASE("lesson: the numbers a class is told", "[cli][lesson]") {
  const std::string q = test::run_cli("lesson why_not_cache_q").out;
  CHECK(q.find("max |\xCE\x94| = 0 (bitwise identical)") != std::string::npos);
  const std::string size = test::run_cli("lesson cache_size").out;
  CHECK(size.find("MHA 32: 17.18 GB") != std::string::npos);
  CHECK(size.find("GQA 8 (the model's): 4.29 GB") != std::string::npos);
  CHECK(size.find("the engine reports 4,096 B \xE2\x9C\x93") != std::string::npos);
  const std::string duck = test::run_cli("lesson same_word_two_positions").out;
  CHECK(duck.find("positions 3 and 6") != std::string::npos);
  const std::string context = test::run_cli("lesson context_limit").out;
  CHECK(context.find("The next step is refused, window or not: \"the context length is 32 tokens") != std::string::npos);
}

TEST_CASE("lesson --json: one document with every step's trace, caption, lines and numbers", "[cli][lesson]") {
  const test::CliResult r = test::run_cli("lesson " KVSCOPE_SOURCE_DIR "/examples/lessons/reusing_a_prefix.json --json");
  REQUIRE(r.status == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["lesson"]["kind"] == "prefix_reuse");
  CHECK(doc["model"] == "demo");
  REQUIRE(doc["steps"].size() == 9);
  CHECK(doc["steps"][0]["phase"] == "prefill");
  CHECK(doc["steps"][1]["cached"]["layers"][0]["reused_rows"].size() == 14);
  CHECK(doc["steps"][8]["numbers"]["prefix"]["total_with_reuse"].get<long long>() <
        doc["steps"][8]["numbers"]["prefix"]["total_without_reuse"].get<long long>());
  for (const json& s : doc["steps"]) {
    CHECK(s.contains("caption"));
    CHECK(s["lines"].size() >= 1);
    CHECK(s.contains("note"));
  }
}

TEST_CASE("lesson: broken files and bad arguments, one line each", "[cli][lesson]") {
  const std::string path = "/tmp/kvscope_broken_lesson_" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << "{\"prompt\": \"Time\", \"kind\": \"magic\"}";
  const test::CliResult broken = test::run_cli("lesson " + path);
  CHECK(broken.status == 1);
  CHECK(broken.out.empty());
  CHECK(broken.err.find(path) != std::string::npos);
  CHECK(broken.err.find("unknown \"kind\"") != std::string::npos);
  CHECK(std::count(broken.err.begin(), broken.err.end(), '\n') == 1);
  std::ofstream(path) << "{\"prompt\": \"Time xylophone\"}";
  const test::CliResult vocab = test::run_cli("lesson " + path);
  CHECK(vocab.status == 1);
  CHECK(vocab.err.find(path + ": prompt: ") != std::string::npos);
  std::remove(path.c_str());
  const test::CliResult missing = test::run_cli("lesson /nonexistent/lesson.json");
  CHECK(missing.status == 1);
  CHECK(missing.err.find("/nonexistent/lesson.json") != std::string::npos);
  CHECK(test::run_cli("lesson").status == 2);
  const test::CliResult list = test::run_cli("lesson --list");
  CHECK(list.status == 0);
  for (const char* name : {"time_flies_fast", "why_not_cache_q", "same_word_two_positions", "context_limit",
                           "reusing_a_prefix", "cache_size"})
    CHECK(list.out.find(name) != std::string::npos);
}
