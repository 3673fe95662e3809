// The local-and-global-layers lesson on the gemma3-layout preset (Gemma 3's layout at toy size, random
// weights): after n positions each local layer holds min(n, 4) rows and each global layer n, and the
// bytes the engine reports are that closed form, at every step.
#include <algorithm>
#include <cmath>
#include <catch2/catch.hpp>

#include "core/lessons/caption.h"
#include "core/lessons/lesson_checks.h"
#include "core/lessons/rotary_pairs.h"
#include "core/lessons/lesson_run.h"

using namespace kvscope;

TEST_CASE("local_and_global_layers: local caches stop at their window, global ones grow", "[lesson][gemma]") {
  const LoadedModel model = load_preset("gemma3-layout");
  const ModelConfig& c = model.model->config();
  REQUIRE(c.n_layer == 6);
  const std::vector<int> windows = {4, 4, 0, 4, 4, 0};  // the preset's config.json, read independently here
  REQUIRE(c.layer_windows == windows);
  LessonRun run(builtin_lesson("local_and_global_layers"), model);
  for (int s = 0; s < run.lesson_steps(); ++s) run.step();
  for (int s = 0; s < run.steps_done(); ++s) {
    INFO("step " << s);
    const StepTrace& t = run.history()[std::size_t(s)];
    const int n = t.position_end;
    std::int64_t rows = 0;
    for (int l = 0; l < c.n_layer; ++l) {
      const int expected = windows[std::size_t(l)] > 0 ? std::min(n, windows[std::size_t(l)]) : n;
      CHECK(int(t.cached.forward.layers[std::size_t(l)].held_rows.size()) == expected);
      rows += expected;
    }
    CHECK(t.cached.cache_bytes == rows * 2 * 1 * 16 * 4);  // K and V x 1 KV head x head_dim 16 x fp32
    CHECK(t.max_abs_logit_diff < 1e-4f);                   // cached = uncached with the window mask
    const LessonReport& r = run.reports()[std::size_t(s)];
    if (r.engine.set) CHECK(r.engine.engine == r.engine.calculator);
  }
}

TEST_CASE("lesson checks recompute attention as the model does: local layers by their own window", "[lesson_checks][gemma]") {
  const LoadedModel model = load_preset("gemma3-layout");
  const ModelConfig& c = model.model->config();
  LessonRun run(builtin_lesson("local_and_global_layers"), model);
  for (int s = 0; s < 6; ++s) run.step();
  bool local_checked = false;
  for (int s = 0; s < run.steps_done(); ++s) {
    INFO("step " << s);
    const StepTrace& t = run.history()[std::size_t(s)];
    const std::vector<QueryRowCheck> checks = check_query_rows(run.history(), s, c);
    REQUIRE(int(checks.size()) == c.n_layer);
    for (const QueryRowCheck& q : checks) {
      INFO("layer " << q.layer);
      CHECK(q.recomputed_vs_model >= 0.0f);
      CHECK(q.recomputed_vs_model <= 1e-6f);  // the model's scale, softcap and this layer's window
      CHECK(q.cached_vs_uncached_output < 1e-5f);
      // The check can fail: recomputed as if every layer were global, a local layer past its window of 4
      // reads keys the model never read.
      if (!c.layer_local(q.layer) || t.position_end <= 4) continue;
      ModelConfig global = c;
      global.layer_windows.clear();
      const LayerRecord& u = t.uncached.forward.layers[std::size_t(q.layer)];
      Matrix wrong;
      attention_outputs(global, q.layer, 0, u.queries, u.keys, u.values, 0, &wrong);
      float diff = 0.0f;
      for (int h = 0; h < c.n_head; ++h)
        diff = std::max(diff, (wrong.row(h) - u.attention[std::size_t(h)].row(t.position_end - 1)).cwiseAbs().maxCoeff());
      CHECK(diff > 1e-3f);
      local_checked = true;
    }
  }
  CHECK(local_checked);
}

TEST_CASE("the ledger line says how many K/V rows the newest query reads in local and in global layers", "[lesson][gemma]") {
  const LoadedModel model = load_preset("gemma3-layout");
  Lesson lesson = builtin_lesson("time_flies_fast");  // a decode lesson: it writes the cost ledger
  lesson.continuation = " flies fast when you are having fun";
  LessonRun run(lesson, model);
  for (int s = 0; s < 6; ++s) run.step();
  for (int s = 0; s < run.steps_done(); ++s) {
    const int n = run.history()[std::size_t(s)].position_end;
    INFO("step " << s << ", " << n << " positions");
    std::string line;
    for (const std::string& l : run.reports()[std::size_t(s)].lines)
      if (l.find("the newest query reads") != std::string::npos) line = l;
    REQUIRE_FALSE(line.empty());
    // Layers 0, 1, 3, 4 are local (window 4), 2 and 5 global (the preset's config.json).
    if (n <= 4)
      CHECK_THAT(line, Catch::Contains("reads " + std::to_string(n) + (n == 1 ? " K/V row per layer" : " K/V rows per layer")));
    else
      CHECK_THAT(line, Catch::Contains("reads 4 K/V rows in layers 0, 1, 3, 4 and " + std::to_string(n) +
                                       " K/V rows in layers 2, 5"));
  }
}

TEST_CASE("rotary dials on gemma3-layout: local layers turn at their own base (1e4), global ones at 1e6", "[lesson][gemma]") {
  const LoadedModel model = load_preset("gemma3-layout");
  const ModelConfig& c = model.model->config();
  LessonRun run(builtin_lesson("local_and_global_layers"), model);
  for (int s = 0; s < 4; ++s) run.step();
  const StepTrace& t = run.history().back();
  const int position = t.newest_position(), d = c.d_head();
  for (int layer : {0, 2}) {  // local, global (config.json's layer_types)
    const double base = layer == 0 ? 10000.0 : 1000000.0;  // rope_local_base_freq, rope_theta
    const RotaryRow row = rotary_row(c, t, layer, 0, position);
    REQUIRE(row.found);
    REQUIRE(int(row.pairs.size()) == d / 2);
    for (int j = 0; j < d / 2; ++j) {
      INFO("layer " << layer << " pair " << j);
      const double theta = std::pow(base, -2.0 * j / d);
      CHECK(row.pairs[std::size_t(j)].radians_per_position == Approx(theta).epsilon(1e-9));
      // The dial's measured turn is the model's: position x theta, wrapped to (-pi, pi].
      const double expected = std::remainder(position * theta, 2 * M_PI);
      CHECK(std::abs(std::remainder(row.pairs[std::size_t(j)].turned - expected, 2 * M_PI)) < 2e-3);
    }
  }
}

TEST_CASE("the layer map names the global layers beside the local ones", "[lesson][gemma]") {
  // gemma3-layout's config.json: layer_types sliding, sliding, full, sliding, sliding, full.
  CHECK(global_layers_text(load_preset("gemma3-layout").model->config()) == "global: L2, L5");
  CHECK(global_layers_text(load_preset("demo-llama").model->config()).empty());  // every layer global
}
