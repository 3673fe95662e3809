#include "examples/cli/bandwidth_probe.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "core/engine/kernels/isa.h"

namespace kvscope::cli {

double measure_read_bandwidth(std::size_t bytes, int n_threads, int repeats) {
  // At the kernels' own width (AVX-512 where the engine uses it): a narrower loop reads memory slower
  // (on this VM SSE2 read 5-20% less than AVX-512), and the roofline would then sit under what the
  // engine's own kernels can reach.
  const KernelSet& kernels = active_kernels();
  const std::size_t n = bytes / sizeof(float);
  std::vector<float> buffer(n, 1.0f);  // written once so every page is really there
  std::vector<float> sums(n_threads);
  double best = 0.0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    const std::size_t chunk = (n + n_threads - 1) / n_threads;
    for (int t = 0; t < n_threads; ++t) {
      const std::size_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
      threads.emplace_back([&buffer, &sums, &kernels, t, begin, end] { sums[t] = kernels.read_sum(buffer.data() + begin, std::int64_t(end - begin)); });
    }
    for (std::thread& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, double(n * sizeof(float)) / seconds);
  }
  // The sums feed nothing, but reading them keeps the loops from being optimised away.
  volatile float sink = 0;
  for (float s : sums) sink = sink + s;
  return best;
}

}  // namespace kvscope::cli
