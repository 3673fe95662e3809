#include "examples/cli/bandwidth_probe.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

namespace kvscope::cli {

namespace {
// Eight independent sums so the loop is limited by loads, not by one add chain.
float sum_range(const float* data, std::size_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += data[i + k];
  for (; i < n; ++i) s[0] += data[i];
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}
}  // namespace

double measure_read_bandwidth(std::size_t bytes, int n_threads, int repeats) {
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
      threads.emplace_back([&, t, begin, end] { sums[t] = sum_range(buffer.data() + begin, end - begin); });
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
