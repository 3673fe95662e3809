// The two lessons of speculative decoding and of half-precision drift, held against what they claim:
// guess_ahead_take_back's steps are the target's passes (k + 1 rows written, the rejected guesses'
// rows rolled back, the text the target's own greedy decoding); why_cached_differs measures f32 drift
// near float32's rounding, bf16 drift orders of magnitude above it, and exactly none in the same order.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/engine/session/session.h"
#include "core/lessons/lesson_run.h"
#include "test_helpers.h"

using namespace kvscope;

TEST_CASE("guess_ahead_take_back: each step is one target pass, and the rows of rejected guesses are rolled back", "[lesson][speculative]") {
  const Lesson lesson = builtin_lesson("guess_ahead_take_back");
  LessonRun run(lesson, load_preset(lesson.preset));
  for (int s = 0; s < run.lesson_steps(); ++s) run.step();
  const SpeculativeScript& script = *run.speculative();
  REQUIRE(run.steps_done() == int(script.rounds.size()) + 1);
  CHECK(run.steps_done() == run.lesson_steps());
  // The text is what plain greedy decoding of the target writes, by the ordinary session.
  const LoadedModel target = load_preset(lesson.preset);
  SessionOptions options;
  options.run_uncached = false;
  DecodeSession plain(target.model, target.tokenizer, options);
  plain.start(run.prompt_ids(), {});
  for (int i = 0; i < lesson.answer_tokens; ++i) plain.step();
  CHECK(script.tokens == plain.tokens());
  bool rolled_back_some = false, kept_all_once = false;
  for (int s = 1; s < run.steps_done(); ++s) {
    const StepTrace& t = run.history()[std::size_t(s)];
    const SpeculativeRound& r = script.rounds[std::size_t(s - 1)];
    const int k = int(r.drafted.size());
    INFO("step " << s);
    CHECK(t.position_end - t.position_begin == k + 1);
    for (const LayerRecord& l : t.cached.forward.layers) CHECK(int(l.computed_rows.size()) == k + 1);
    std::vector<int> expected;
    for (int p = t.position_begin + r.accepted + 1; p < t.position_end; ++p) expected.push_back(p);
    CHECK(t.cached.rolled_back == expected);
    CHECK(t.max_abs_logit_diff < 1e-4f);  // the pass and a recomputation agree on the token after the kept guesses
    CHECK(t.next_id == r.next_id);
    rolled_back_some = rolled_back_some || !expected.empty();
    kept_all_once = kept_all_once || r.accepted == k;
  }
  CHECK(rolled_back_some);  // the lesson shows both
  CHECK(kept_all_once);
  const int key = run.key_step();
  CHECK(script.rounds[std::size_t(key - 1)].accepted > 0);
  CHECK(script.rounds[std::size_t(key - 1)].accepted < int(script.rounds[std::size_t(key - 1)].drafted.size()));
}

TEST_CASE("why_cached_differs: f32 drifts in the last bits, bf16 far more, the same order not at all", "[lesson][numerics]") {
  if (test::kSanitizedBuild) {  // the same numerics paths run sanitized in test_numerics.cpp, on smaller models
    WARN("not run in sanitizer builds: three runs of a GPT-2 124M-shaped model take a minute there");
    return;
  }
  const Lesson lesson = builtin_lesson("why_cached_differs");
  LessonRun run(lesson, load_preset(lesson.preset));
  for (int s = 0; s < run.lesson_steps(); ++s) run.step();
  const std::vector<const std::vector<StepTrace>*> compared = run.compared_histories();
  REQUIRE(compared.size() == 2);
  REQUIRE(lesson.numerics == "bf16");
  REQUIRE(lesson.compare == std::vector<std::string>{"f32", "bf16,same-order"});
  for (int s = 1; s < run.steps_done(); ++s) {
    INFO("step " << s);
    const float bf16 = run.history()[std::size_t(s)].max_abs_logit_diff;
    const float f32 = (*compared[0])[std::size_t(s)].max_abs_logit_diff;
    const float same = (*compared[1])[std::size_t(s)].max_abs_logit_diff;
    CHECK(f32 > 0.0f);
    CHECK(f32 < 1e-4f);
    CHECK(bf16 > 1000.0f * f32);
    CHECK(same == 0.0f);
    CHECK(run.history()[std::size_t(s)].rounded);
    CHECK_FALSE((*compared[0])[std::size_t(s)].rounded);
  }
  // Every step, the three runs fed the same tokens.
  CHECK(run.history().back().context_ids == (*compared[0]).back().context_ids);
  CHECK(run.history().back().context_ids == (*compared[1]).back().context_ids);
}
