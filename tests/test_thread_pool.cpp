// ThreadPool::run_parts: every part runs exactly once, whatever the count, and a thread that is held up
// does not hold up its share: the others take its parts. Counted directly, not through any product.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/engine/kernels/thread_pool.h"

using namespace kvscope;

TEST_CASE("thread pool: run_parts runs each part once, and the other threads take a held-up thread's parts",
          "[thread_pool]") {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (std::int64_t parts : {0, 1, 2, 5, 64, 1001}) {
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(parts));
      pool.run_parts(parts, [&](std::int64_t p) { runs[std::size_t(p)].fetch_add(1); });
      int wrong = 0;
      for (const auto& r : runs) wrong += r.load() != 1;
      INFO(threads << " threads, " << parts << " parts");
      CHECK(wrong == 0);
    }
  }

  // Part 0 is the start of the calling thread's share. It waits until every other part has run (for at
  // most 10 s): that happens only if the other threads take the rest of its share. With a fixed split
  // (each thread its own parts only) it would wait the whole 10 s and see half of them undone.
  ThreadPool pool(2);
  const std::int64_t parts = 40;
  std::atomic<std::int64_t> done{0};
  std::int64_t seen_by_part0 = -1;
  pool.run_parts(parts, [&](std::int64_t p) {
    if (p == 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (done.load() < parts - 1 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
      seen_by_part0 = done.load();
    }
    done.fetch_add(1);
  });
  CHECK(seen_by_part0 == parts - 1);
  CHECK(done.load() == parts);
}
