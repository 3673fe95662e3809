#pragma once
// StepRunner: runs LessonRun::step() (the trace and its lesson report) as a BackgroundJob, so a long
// step (gpt2-small) never blocks the window. While a step runs the UI does not touch the session; it
// draws the traces it copied.
#include <string>

#include "core/lessons/lesson_run.h"
#include "gui/background_job.h"

namespace kvscope::gui {

class StepRunner {
 public:
  bool busy() const { return job_.busy(); }
  // Starts run.step() in the background. The run must outlive the step.
  void start(LessonRun& run) {
    step_number_ = run.steps_done();
    job_.start([&run] { run.step(); });
  }
  // True once, when a started step has finished (then busy() is false). error() tells whether it failed.
  bool poll() { return job_.poll(); }
  void wait() { job_.wait(); }
  const std::string& error() const { return job_.error(); }
  double elapsed_seconds() const { return job_.elapsed_seconds(); }
  int step_number() const { return step_number_; }

 private:
  BackgroundJob job_;
  int step_number_ = 0;
};

}  // namespace kvscope::gui
