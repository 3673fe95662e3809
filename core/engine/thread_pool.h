#pragma once
// A fixed set of worker threads for splitting one matrix-vector product across cores.
// run_chunks blocks until every chunk is done; workers sleep between calls.
#include <atomic>
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

 private:
  void worker_loop(int chunk);

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one run_chunks at a time (the UI thread and a step thread may both call)
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
};

// The pool shared by the one-row linear products: hardware concurrency threads (at most 8) until resized.
ThreadPool& shared_pool();
void resize_shared_pool(int n_threads);  // at least one thread

}  // namespace kvscope
