#pragma once
// StepRunner: runs LessonRun::step() (the trace and its lesson report) on a worker thread so a long step (gpt2-small) never blocks
// the window. While a step runs the UI does not touch the session; it draws the traces it copied.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/lesson_run.h"

namespace kvscope::gui {

class StepRunner {
 public:
  StepRunner() = default;
  StepRunner(const StepRunner&) = delete;
  StepRunner& operator=(const StepRunner&) = delete;
  ~StepRunner() { wait(); }

  bool busy() const { return thread_.joinable(); }
  // Starts run.step() in the background. The run must outlive the step.
  void start(LessonRun& run);
  // True once, when a started step has finished (then busy() is false). error() tells whether it failed.
  bool poll();
  void wait();  // blocks until the running step (if any) has finished
  const std::string& error() const { return error_; }
  double elapsed_seconds() const;
  int step_number() const { return step_number_; }

 private:
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::string error_;
  int step_number_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace kvscope::gui
