#pragma once
// BackgroundJob: one piece of work on a worker thread, so the window keeps drawing while it runs (a
// decode step of gpt2-small, loading half a gigabyte of weights). The UI thread polls it once a
// frame; the work's exception message, if any, comes back as error(). Where no thread can start (the
// browser build: core/engine/kernels/thread_pool.h), start() runs the work at once and the next poll()
// reports it done.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace kvscope::gui {

class BackgroundJob {
 public:
  BackgroundJob() = default;
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;
  ~BackgroundJob() { wait(); }

  bool busy() const { return thread_.joinable() || ran_inline_; }
  // Waits for any earlier job, then starts `work` in the background.
  void start(std::function<void()> work);
  // True once, when a started job has finished (then busy() is false). error() tells whether it failed.
  bool poll();
  void wait();  // blocks until the running job (if any) has finished
  const std::string& error() const { return error_; }
  double elapsed_seconds() const;
  // Called on the worker thread as any job finishes: the window sets glfwPostEmptyEvent, so a UI thread
  // that sleeps while a step runs wakes the moment it is done.
  static void set_wake(void (*wake)());

 private:
  std::thread thread_;
  std::atomic<bool> done_{false};
  bool ran_inline_ = false;  // finished in start(), not yet polled
  std::string error_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace kvscope::gui
