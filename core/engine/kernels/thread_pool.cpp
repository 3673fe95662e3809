#include "core/engine/kernels/thread_pool.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <memory>

namespace kvscope {

ThreadPool::ThreadPool(int n_threads) : shares_(std::size_t(std::max(1, n_threads))) {
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

namespace {
std::uint64_t pack(std::uint64_t begin, std::uint64_t end) { return begin | end << 32; }
std::int64_t begin_of(std::uint64_t bounds) { return std::int64_t(bounds & 0xffffffffu); }
std::int64_t end_of(std::uint64_t bounds) { return std::int64_t(bounds >> 32); }
}  // namespace

std::int64_t ThreadPool::take(int share, bool from_end) {
  std::atomic<std::uint64_t>& bounds = shares_[std::size_t(share)].bounds;
  std::uint64_t now = bounds.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t begin = begin_of(now), end = end_of(now);
    if (begin >= end) return -1;
    const std::uint64_t left = from_end ? pack(std::uint64_t(begin), std::uint64_t(end - 1)) : pack(std::uint64_t(begin + 1), std::uint64_t(end));
    if (bounds.compare_exchange_weak(now, left, std::memory_order_relaxed)) return from_end ? end - 1 : begin;
  }
}

void ThreadPool::run_parts(std::int64_t parts, const std::function<void(std::int64_t)>& part) {
  if (workers_.empty() || parts <= 1) {
    for (std::int64_t p = 0; p < parts; ++p) part(p);
    return;
  }
  assert(parts < (std::int64_t(1) << 32) && "a share's bounds are packed in 32 bits each");
  std::lock_guard<std::mutex> call(parts_mutex_);  // shares_ belong to one call at a time
  const int n = size();
  for (int t = 0; t < n; ++t)
    shares_[std::size_t(t)].bounds.store(pack(std::uint64_t(parts * t / n), std::uint64_t(parts * (t + 1) / n)),
                                          std::memory_order_relaxed);
  run_chunks([&](int t) {
    for (std::int64_t p; (p = take(t, false)) >= 0;) part(p);
    for (;;) {
      int fullest = -1;
      std::int64_t most = 0;
      for (int v = 0; v < n; ++v) {
        const std::uint64_t b = shares_[std::size_t(v)].bounds.load(std::memory_order_relaxed);
        if (end_of(b) - begin_of(b) > most) most = end_of(b) - begin_of(b), fullest = v;
      }
      if (fullest < 0) return;
      if (const std::int64_t p = take(fullest, true); p >= 0) part(p);
    }
  });
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
  pool.run_parts(threads, [&](std::int64_t part) { fn(count * part / threads, count * (part + 1) / threads); });
}

}  // namespace kvscope
