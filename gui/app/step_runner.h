#pragma once
// StepRunner: runs LessonRun::step() (the trace and its lesson report) or LessonRun::back() as a
// BackgroundJob, so a long step (gpt2-small) never blocks the window, nor does going back onto a step
// whose large tensors were dropped (the session recomputes them). While either runs the UI does not
// touch the session; it draws the traces it copied.
#include <algorithm>
#include <string>

#include "core/lessons/lesson_run.h"
#include "gui/app/background_job.h"

namespace kvscope::gui {

class StepRunner {
 public:
  bool busy() const { return job_.busy(); }
  // Starts run.step() in the background. The run must outlive the step.
  void start(LessonRun& run) {
    step_number_ = run.steps_done();
    going_back_ = went_back_ = false;
    job_.start([&run] { run.step(); });
  }
  // Starts run.back() in the background.
  void start_back(LessonRun& run) {
    step_number_ = std::max(0, run.steps_done() - 2);  // the step shown after it, perhaps recomputed
    going_back_ = true;
    went_back_ = false;
    job_.start([this, &run] { went_back_ = run.back(); });
  }
  // After poll(): whether the job was a back() and whether it took a step back.
  bool going_back() const { return going_back_; }
  bool went_back() const { return went_back_; }
  // True once, when a started step has finished (then busy() is false). error() tells whether it failed.
  bool poll() { return job_.poll(); }
  void wait() { job_.wait(); }
  const std::string& error() const { return job_.error(); }
  double elapsed_seconds() const { return job_.elapsed_seconds(); }
  int step_number() const { return step_number_; }

 private:
  BackgroundJob job_;
  int step_number_ = 0;
  bool going_back_ = false;
  bool went_back_ = false;  // written by the job, read after poll() saw it finish
};

}  // namespace kvscope::gui
