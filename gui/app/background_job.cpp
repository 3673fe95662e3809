#include "gui/app/background_job.h"

#include <exception>
#include <new>
#include <utility>

#include "core/engine/kernels/thread_pool.h"

namespace kvscope::gui {

namespace {
std::atomic<void (*)()> g_wake{nullptr};
}  // namespace

void BackgroundJob::set_wake(void (*wake)()) { g_wake = wake; }

void BackgroundJob::start(std::function<void()> work) {
  wait();
  error_.clear();
  done_ = false;
  started_ = std::chrono::steady_clock::now();
  auto run = [this, work = std::move(work)] {
    try {
      work();
    } catch (const std::bad_alloc&) {
      error_ = "out of memory";
    } catch (const std::exception& e) {
      error_ = e.what();  // read by the UI thread only after done_ is seen
    }
    done_.store(true, std::memory_order_release);
    if (void (*wake)() = g_wake.load(); wake && kCanStartThreads) wake();
  };
  if (!kCanStartThreads) {
    run();
    ran_inline_ = true;
    return;
  }
  thread_ = std::thread(std::move(run));
}

bool BackgroundJob::poll() {
  if (ran_inline_) {
    ran_inline_ = false;
    return true;
  }
  if (!thread_.joinable() || !done_.load(std::memory_order_acquire)) return false;
  thread_.join();
  return true;
}

void BackgroundJob::wait() {
  if (thread_.joinable()) thread_.join();
}

double BackgroundJob::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

}  // namespace kvscope::gui
