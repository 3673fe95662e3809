#include "core/engine/kernels/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <memory>

namespace kvscope {

ThreadPool::ThreadPool(int n_threads) {
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back(&ThreadPool::worker_loop, this, i);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& w : workers_) w.join();
}

namespace {
// How long a thread spins for the next call (worker) or for the others to finish (caller) before it
// sleeps on a condition variable.
constexpr std::chrono::microseconds kSpin{100};

// Spins until done() or kSpin has passed; true when done() came true.
template <class Done>
bool spin_until(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
  }
}
}  // namespace

void ThreadPool::run_chunks(const std::function<void(int)>& task) {
  if (workers_.empty()) {
    task(0);
    return;
  }
  std::lock_guard<std::mutex> call(call_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_.store(&task);
    pending_.store(int(workers_.size()));
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  task(0);
  if (!spin_until([this] { return pending_.load() == 0; })) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_.load() == 0; });
  }
  task_.store(nullptr);
}

void ThreadPool::worker_loop(int chunk) {
  std::uint64_t seen = 0;
  for (;;) {
    if (!spin_until([&] { return generation_.load() != seen; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
      if (stopping_) return;
    }
    seen = generation_.load();
    (*task_.load())(chunk);
    if (pending_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under it before it sleeps
      done_.notify_one();
    }
  }
}

int hardware_threads() { return kCanStartThreads ? std::max(1, int(std::thread::hardware_concurrency())) : 1; }

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool = std::make_unique<ThreadPool>(std::min(8, hardware_threads()));
  return pool;
}
}  // namespace

ThreadPool& shared_pool() { return *pool_slot(); }
void resize_shared_pool(int n_threads) {
  pool_slot() = std::make_unique<ThreadPool>(hardware_threads() == 1 ? 1 : std::max(1, n_threads));
}

void split_range(std::int64_t count, std::int64_t min_split, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  ThreadPool& pool = shared_pool();
  const int threads = count >= min_split ? pool.size() : 1;
  if (threads == 1) {
    fn(0, count);
    return;
  }
  pool.run_chunks([&](int chunk) { fn(count * chunk / threads, count * (chunk + 1) / threads); });
}

}  // namespace kvscope
