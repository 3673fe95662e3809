#pragma once
// LessonRun: a lesson on a loaded model, step by step. Every kind but prefix_reuse, speculative and
// memory_wall steps a DecodeSession (both modes, in lockstep); prefix_reuse steps through its PrefixScript,
// speculative through its SpeculativeScript (run at the start, with the lesson's draft model),
// memory_wall through its MemoryWall (a length measured at each new step). A
// precision lesson's session computes in the lesson's numerics, and each "compare" numerics runs its own. A batch lesson
// also runs its BatchScript (every round, at the start): step i shows round i, and the DecodeSession
// is sequence 0's own run, for the panes. Each step also gets its LessonReport. The window runs step() on a worker thread; kvscope-cli runs it in a loop.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/lessons/batch_script.h"
#include "core/lessons/lesson.h"
#include "core/lessons/lesson_report.h"
#include "core/lessons/memory_wall.h"
#include "core/formats/model_source.h"
#include "core/lessons/prefix_reuse.h"
#include "core/lessons/speculative_script.h"
#include "core/engine/session/session.h"

namespace kvscope {

// Text -> ids with the model's tokenizer; a model without a vocabulary takes ids ("464 3862").
// Throws DataError naming `what` for text the tokenizer refuses.
enum class TextRole { Prompt, Continuation };  // a prompt gets the BOS token where the tokenizer adds one
std::vector<int> encode_text(const Tokenizer& tokenizer, const std::string& text, const std::string& what,
                             TextRole role = TextRole::Continuation);

class LessonRun {
 public:
  // Encodes the lesson's texts and, with check_fits, checks its steps fit the context (a prompt typed in
  // the window is not checked: it runs until the context is full). Throws DataError "SOURCE: problem"
  // (UsageError for a window the model cannot take).
  LessonRun(Lesson lesson, LoadedModel model, bool check_fits = true);

  const Lesson& lesson() const { return lesson_; }
  const LoadedModel& model() const { return model_; }
  const std::vector<int>& prompt_ids() const { return prompt_ids_; }
  // Steps the lesson is written for (the window may step on past them, the CLI and exports stop).
  int lesson_steps() const { return lesson_steps_; }
  // The step worth a slide. A cache_policy lesson with compared policies: measured, the step (of those
  // run) where their KL from full attention differs most, so it opens where its point shows. Else the
  // lesson's key_step, or the last step.
  int key_step() const;

  bool can_step(std::string* why_not = nullptr) const;
  void step();   // one more trace and its report
  bool back();   // false at the start
  void reset();  // before step 0
  int steps_done() const { return int(reports_.size()); }
  const std::vector<StepTrace>& history() const;
  const std::vector<LessonReport>& reports() const { return reports_; }
  // batch lessons: the whole batch run (null for other kinds).
  const BatchScript* batch() const { return batch_.get(); }
  // cache_policy and precision lessons: the histories of the "compare" runs, stepped with the lesson (same tokens).
  std::vector<const std::vector<StepTrace>*> compared_histories() const;
  // speculative lessons: the whole run (null for other kinds).
  const SpeculativeScript* speculative() const { return speculative_.get(); }
  // memory_wall lessons: the lengths measured so far (null for other kinds). A step measures its length
  // the first time it runs; back() and step() again show the same measurement.
  const MemoryWall* memory_wall() const { return wall_.get(); }

 private:
  LessonInputs inputs() const;
  void start_compared(SessionOptions options);

  Lesson lesson_;
  LoadedModel model_;
  std::vector<int> prompt_ids_, forced_ids_;
  int lesson_steps_ = 0;
  std::unique_ptr<DecodeSession> session_;  // every kind but prefix_reuse
  std::vector<std::unique_ptr<DecodeSession>> compared_;  // cache_policy: one cached-only session per "compare"
  std::unique_ptr<PrefixScript> script_;    // prefix_reuse
  std::unique_ptr<SpeculativeScript> speculative_;  // speculative
  std::unique_ptr<BatchScript> batch_;      // batch
  std::unique_ptr<MemoryWall> wall_;        // memory_wall
  std::vector<StepTrace> script_shown_;     // the script's traces[0..steps_done)
  const std::vector<StepTrace>& script_traces() const {
    return script_ ? script_->traces : speculative_ ? speculative_->traces : wall_->traces();
  }
  std::vector<LessonReport> reports_;
};

// The lesson's step `step` as one JSON object: the trace (core/trace_json.h), its caption, the lesson's
// computed lines and numbers, and the teacher's note.
nlohmann::json lesson_step_to_json(const LessonRun& run, int step);
// Every step run so far, with the lesson's title, kind, source and the model's name.
nlohmann::json lesson_run_to_json(const LessonRun& run);

}  // namespace kvscope
