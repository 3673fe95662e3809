#include "examples/cli/flop_probe.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "core/engine/kernels/isa.h"

namespace kvscope::cli {

double measure_flop_peak(int n_threads, int repeats) {
  const KernelSet& kernels = active_kernels();
  constexpr std::int64_t kIterations = 20000000;  // some tens of milliseconds at any width
  double best = 0.0;
  for (int r = 0; r < repeats; ++r) {
    std::vector<double> done(std::size_t(n_threads), 0.0);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; ++t)
      threads.emplace_back([&done, &kernels, t] { done[std::size_t(t)] = kernels.multiply_add_loop(kIterations); });
    for (std::thread& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double multiply_adds = 0;
    for (double d : done) multiply_adds += d;
    best = std::max(best, 2.0 * multiply_adds / seconds);
  }
  return best;
}

}  // namespace kvscope::cli
