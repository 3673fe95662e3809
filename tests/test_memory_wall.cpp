// The memory-wall lesson held against the shapes: every cache's bytes at every length against the cache
// formula written out here from the model's config (not through the calculator), the trace of each step
// at its length, the lesson's numbers and figures against the measurements, and a table of refusals.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/lessons/lesson_run.h"
#include "core/lessons/memory_wall.h"
#include "core/lessons/prompt_fill.h"
#include "test_helpers.h"

using namespace kvscope;

namespace {

std::vector<int> corpus_tokens(const LoadedModel& m, int n) { return fill_prompt(*m.tokenizer, {1}, n); }

}  // namespace

TEST_CASE("memory wall: each cache's bytes are its shape's, at every length, and timed caches are timed", "[lesson][memory_wall]") {
  const LoadedModel m = load_preset("long-demo");
  const ModelConfig& c = m.model->config();
  REQUIRE(c.n_layer == 8);
  REQUIRE(c.kv_heads() == 2);
  REQUIRE(c.d_head() == 64);
  const std::vector<int> lengths = {100, 700};  // 700: grown past one 512-token chunk
  const int timed = 3;
  MemoryWall wall(m, corpus_tokens(m, 700 + wall_tokens_past_length(timed)), lengths,
                  {"window:16", "bf16", "bits:8", "kv_heads:1", "latent:8"}, timed);
  wall.measure_next();
  wall.measure_next();
  wall.measure_next();  // past the last length: nothing more
  REQUIRE(wall.measured() == 2);
  REQUIRE(wall.series().size() == 6);
  const std::int64_t L = c.n_layer, G = c.kv_heads(), D = c.d_head();
  for (std::size_t k = 0; k < lengths.size(); ++k) {
    const std::int64_t n = lengths[k];
    INFO("length " << n);
    auto at = [&](std::size_t series) { return wall.series()[series].points[k]; };
    // 2 (K and V) x layers x KV heads x head dim x positions x bytes per value.
    CHECK(at(0).cache_bytes == 2 * L * G * D * n * 4);
    CHECK(at(1).cache_bytes == 2 * L * G * D * std::min<std::int64_t>(n, 16) * 4);  // a window of 16 holds 16
    CHECK(at(2).cache_bytes == 2 * L * G * D * n * 2);
    // 8-bit codes plus each group's zero and scale (and the key group still filling, in fp16): more than the
    // codes alone, less than 16-bit rows.
    CHECK(at(3).cache_bytes > 2 * L * G * D * n);
    CHECK(at(3).cache_bytes < 2 * L * G * D * n * 2);
    CHECK(at(4).cache_bytes == 2 * L * 1 * D * n * 4);
    CHECK(at(5).cache_bytes == L * (8 + D / 2) * n * 4);  // a latent row of 8 and a rotated key of half a head
    for (std::size_t s = 0; s < 6; ++s) {
      const WallPoint p = at(s);
      CHECK(p.positions == n);
      if (s != 3) CHECK(p.closed_form_bytes == p.cache_bytes);  // the calculator agrees with the engine
      CHECK(p.closed_form_bytes == (s == 3 ? 2 * L * G * D * n : p.cache_bytes));  // fp8: one byte a value
      const bool timed_cache = s != 3 && s != 5;  // bits:8 and latent are not timed
      CHECK(wall.series()[s].cache.timed() == timed_cache);
      CHECK(int(p.step_ms.size()) == (timed_cache ? timed : 0));
      CHECK((p.ms_per_token > 0) == timed_cache);
      CHECK((p.uncached_ms > 0) == (s == 0));
    }
    // The step's trace: one decode step in both modes, after which the cache holds exactly n positions.
    const StepTrace& t = wall.traces()[k];
    CHECK(t.step == int(k));
    CHECK_FALSE(t.prefill);
    CHECK(t.position_end == n);
    CHECK(t.both_ran());
    CHECK(t.cached.cache_bytes == at(0).cache_bytes);
    CHECK(t.max_abs_logit_diff < 1e-4f);
  }
  // The weights a decode step reads, from long-demo's config.json (hidden 256, 4 query heads and 2 KV heads
  // of 64, MLP 768, vocab 600, tied): per layer q, k, v, o, gate, up, down and two norms; the final norm;
  // the tied head (the whole token table) and one embedding row; 4 bytes a float.
  const double per_layer = 256.0 * 4 * 64 * 2 + 256.0 * 2 * 64 * 2 + 256.0 * 768 * 3 + 2 * 256;
  CHECK(wall.series()[0].weights_bytes == 4 * (8 * per_layer + 256 + 600.0 * 256 + 256));
  // The loaded model's own for the plain caches, the variants' own for the others.
  CHECK(wall.series()[0].weights_bytes == wall.series()[2].weights_bytes);
  CHECK(wall.series()[4].weights_bytes < wall.series()[0].weights_bytes);  // K and V projections of one head, not two
}

TEST_CASE("memory wall lesson: its lines and numbers are the measurements, every byte figure a point's", "[lesson][memory_wall]") {
  Lesson lesson = builtin_lesson("memory_wall");
  REQUIRE(lesson.kind == LessonKind::MemoryWall);
  REQUIRE(lesson.lengths.back() == 4096);
  lesson.lengths = {100, 300, 700};  // the built-in caches and notes at shorter lengths (the window tests run all of it)
  lesson.steps.resize(3);
  LessonRun run(lesson, load_preset(lesson.preset));
  REQUIRE(run.lesson_steps() == int(lesson.lengths.size()));
  for (int s = 0; s < run.lesson_steps(); ++s) run.step();
  std::string why;
  CHECK_FALSE(run.can_step(&why));
  CHECK(why.find("ends after step 2") != std::string::npos);
  const MemoryWall& wall = *run.memory_wall();
  for (int s = 0; s < run.steps_done(); ++s) {
    INFO("step " << s);
    const LessonReport& r = run.reports()[std::size_t(s)];
    CHECK(run.history()[std::size_t(s)].position_end == lesson.lengths[std::size_t(s)]);
    REQUIRE(r.wall.size() == wall.series().size());
    CHECK(r.wall.front().points.size() == std::size_t(s) + 1);  // the curves up to this step, not past it
    CHECK(r.lines.size() == 2);
    CHECK(r.details.size() == 2 * wall.series().size() - 1);  // each compared cache's line, every cache's closed form
    const nlohmann::json& numbers = r.numbers["memory_wall"];
    CHECK(numbers["positions"] == lesson.lengths[std::size_t(s)]);
    int byte_figures = 0;
    for (const Figure& f : r.figures.figures()) {
      if (f.quantity != "cache_bytes" || !f.context.contains("wall_cache")) continue;
      ++byte_figures;
      const WallSeries* series = nullptr;
      for (const WallSeries& w : wall.series())
        if (w.cache.spec == f.context["wall_cache"]) series = &w;
      REQUIRE(series);
      const WallPoint& p = series->points[std::size_t(s)];
      CHECK(f.context["positions"] == p.positions);
      CHECK(f.value == double(f.context.value("closed_form", false) ? p.closed_form_bytes : p.cache_bytes));
    }
    CHECK(byte_figures == 1 + int(wall.series().size() - 1) + 2 * int(wall.series().size()));  // the line, each compared cache, each closed form and engine count
  }
  // Back and step again show the same measurement.
  const double ms = run.reports().back().wall.front().points.back().ms_per_token;
  REQUIRE(run.back());
  run.step();
  CHECK(run.reports().back().wall.front().points.back().ms_per_token == ms);
}

TEST_CASE("memory wall lessons refuse what they cannot measure, naming it", "[lesson][memory_wall]") {
  const std::string head = R"({"title": "t", "kind": "memory_wall", "prompt": "The", )";
  const std::pair<std::string, std::string> bad[] = {
      {R"("compare": ["bf16"]})", "needs \"lengths\""},
      {R"("lengths": []})", "non-empty array"},
      {R"("lengths": [300, 200]})", "must rise"},
      {R"("lengths": [1]})", "from 2 to"},
      {R"("lengths": [100], "compare": ["kv_heads:0"]})", "kv_heads takes a whole number"},
      {R"("lengths": [100], "compare": ["latent:x"]})", "latent takes a whole number"},
      {R"("lengths": [100], "compare": ["fast"]})", "not a cache to measure"},
      {R"("lengths": [100], "policy": "window:8"})", "no \"policy\""},
      {R"("lengths": [100], "prompt_length": 50})", "\"prompt_length\""},
      {R"("lengths": [100], "steps": [{"note": "a"}, {"note": "b"}]})", "2 entries for 1"},
      {R"("lengths": [100], "timed_tokens": 0})", "timed_tokens"},
  };
  for (const auto& [tail, message] : bad) {
    INFO(tail);
    try {
      parse_lesson(head + tail, "wall.json");
      FAIL("parsed");
    } catch (const DataError& e) {
      CHECK(std::string(e.what()).rfind("wall.json: ", 0) == 0);
      CHECK(std::string(e.what()).find(message) != std::string::npos);
    }
  }
  try {
    parse_lesson(R"({"title": "t", "prompt": "The", "lengths": [100]})", "decode.json");
    FAIL("parsed");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()).find("\"lengths\" belongs to memory_wall lessons") != std::string::npos);
  }
  // Refused when run, on a model that cannot take them.
  const LoadedModel m = load_preset("long-demo");
  const std::pair<std::string, std::string> unrunnable[] = {
      {R"("lengths": [100, 104]})", "must rise by more than"},
      {R"("lengths": [9000]})", "do not fit long-demo's context of 8192"},
      {R"("lengths": [100], "compare": ["kv_heads:3"]})", "must divide the model's 4 query heads"},
      {R"("lengths": [100], "compare": ["bits:4"]})", "8-, 16- and 32-bit"},
  };
  for (const auto& [tail, message] : unrunnable) {
    INFO(tail);
    try {
      LessonRun run(parse_lesson(head + tail, "wall.json"), m);
      FAIL("ran");
    } catch (const std::exception& e) {
      CHECK(std::string(e.what()).find(message) != std::string::npos);
    }
  }
  // A latent cache is Llama-style only: GPT-2's demo refuses it.
  try {
    MemoryWall wall(load_preset("demo"), std::vector<int>(40, 1), {10}, {"latent:8"}, 2);
    FAIL("made");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("a latent cache is defined for Llama-style models") != std::string::npos);
  }
}
