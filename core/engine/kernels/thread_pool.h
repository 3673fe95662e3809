#pragma once
// A fixed set of worker threads for splitting one matrix-vector product across cores.
// run_chunks blocks until every chunk is done. Between calls a worker first spins for a short while
// (a decode step makes dozens of calls microseconds apart, and waking a sleeping thread costs tens of
// microseconds on a VM), then sleeps.
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kvscope {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }  // the calling thread works too
  // Calls task(chunk) for chunk = 0..size()-1, one per thread, and returns when all are done.
  void run_chunks(const std::function<void(int chunk)>& task);
  // Calls part(p) for p = 0..parts-1, each once, and returns when all are done. Thread t first runs its
  // own contiguous share of the parts in order (its reads stream through memory like run_chunks'), then
  // takes parts from the far end of whichever share has most left: a thread the VM slows down then runs
  // fewer parts instead of keeping the others waiting. part(p) must not depend on the thread running it.
  // parts < 2^32.
  void run_parts(std::int64_t parts, const std::function<void(std::int64_t part)>& part);

 private:
  void worker_loop(int chunk);
  std::int64_t take(int share, bool from_end);  // a share's next part, from its start or end; -1: none left

  // Each thread's share of run_parts' parts, [begin, end) packed in one word so a take is one
  // compare-and-swap; a cache line each, so a thread taking its own parts touches no other's line.
  struct alignas(64) Share {
    std::atomic<std::uint64_t> bounds{0};
  };
  std::vector<Share> shares_;

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one run_chunks at a time (the UI thread and a step thread may both call)
  std::mutex parts_mutex_;  // one run_parts at a time: it holds shares_ across its run_chunks
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<const std::function<void(int)>*> task_{nullptr};
  std::atomic<std::uint64_t> generation_{0};  // one more per call; written under mutex_
  std::atomic<int> pending_{0};               // workers still running this call's chunks
  bool stopping_ = false;
};

// Whether this build can start a std::thread: not the browser build (no pthreads there:
// scripts/web_libraries.cmake), where work runs on the one thread instead.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
inline constexpr bool kCanStartThreads = false;
#else
inline constexpr bool kCanStartThreads = true;
#endif
int hardware_threads();  // hardware concurrency, or 1 without kCanStartThreads

// The pool shared by the one-row linear products: hardware concurrency threads (at most 8) until resized.
ThreadPool& shared_pool();
void resize_shared_pool(int n_threads);  // at least one thread

// fn(begin, end) over [0, count) in one contiguous part per thread of the shared pool (run_parts); on the calling
// thread alone when count < min_split (too little work to wake the others for). For items whose results
// are each their own (rows of an element-wise step), so the split changes no number.
void split_range(std::int64_t count, std::int64_t min_split, const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace kvscope
