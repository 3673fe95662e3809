#include "gui/step_runner.h"

#include <exception>

namespace kvscope::gui {

void StepRunner::start(LessonRun& run) {
  wait();
  error_.clear();
  done_ = false;
  step_number_ = run.steps_done();
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this, &run] {
    try {
      run.step();
    } catch (const std::exception& e) {
      error_ = e.what();  // read by the UI thread only after done_ is seen
    }
    done_.store(true, std::memory_order_release);
  });
}

bool StepRunner::poll() {
  if (!thread_.joinable() || !done_.load(std::memory_order_acquire)) return false;
  thread_.join();
  return true;
}

void StepRunner::wait() {
  if (thread_.joinable()) thread_.join();
}

double StepRunner::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

}  // namespace kvscope::gui
