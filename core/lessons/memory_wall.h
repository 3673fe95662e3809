#pragma once
// The memory wall: one sequence grown to thousands of positions and, at each of a lesson's lengths,
// measured, what a decoded token costs with the loaded model's float32 cache and with each compared
// cache (core/lessons/wall_cache.h): the milliseconds a token takes (median of a few timed decode steps)
// and the bytes the cache holds, beside the calculator's closed form for the same cache and length. The
// caches take their timed steps in turn (one step each, round after round), so a slow minute of the
// machine falls on all of them alike; nothing is recorded while they are timed.
// Every cache is fed the same token ids, each on its own model (the loaded one, or the same shape with
// fewer KV heads or a latent cache, seeded random weights). Each length also gets a decode trace of the
// loaded model in both modes, for the panes: its step feeds position `length - 1`, so the cache then
// holds `length` positions, as the curves count them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/session/trace.h"
#include "core/formats/model_source.h"
#include "core/lessons/cache_calculator.h"
#include "core/lessons/wall_cache.h"

namespace kvscope {

struct WallPoint {
  int positions = 0;                    // held when its bytes were counted
  std::vector<double> step_ms;          // each timed decode step from there (empty when not timed)
  double ms_per_token = 0.0;            // their median (0 when not timed)
  std::int64_t cache_bytes = 0;         // the engine's count of what the cache holds
  std::int64_t closed_form_bytes = 0;   // the calculator's, for this cache's shape, dtype and window
  double uncached_ms = 0.0;             // the full cache's series: one pass over every position, no cache
};

struct WallSeries {
  WallCache cache;
  CacheShape shape;              // the calculator's shape of the model this cache runs on
  AttentionVariant variant;      // how that shape caches (its window, for a window policy)
  KvDtype dtype = KvDtype::FP32; // the calculator's bytes per value (fp8 for an 8-bit policy)
  double weights_bytes = 0.0;    // the weights a decode step reads (decode_weight_bytes)
  std::vector<WallPoint> points;  // one per length measured
};

// Tokens fed past each length while it is measured: the timed steps and a warm-up step before each run of them.
int wall_tokens_past_length(int timed_tokens);

class MemoryWall {
 public:
  // tokens: the sequence every cache is fed, at least lengths.back() + wall_tokens_past_length() long.
  // lengths: ascending, each more than that past the one before, the last within the context. Throws
  // DataError naming what is wrong (UsageError for a cache the model's family cannot take).
  MemoryWall(const LoadedModel& model, std::vector<int> tokens, std::vector<int> lengths,
             const std::vector<std::string>& compare, int timed_tokens);
  ~MemoryWall();
  MemoryWall(const MemoryWall&) = delete;
  MemoryWall& operator=(const MemoryWall&) = delete;

  int steps() const { return int(lengths_.size()); }
  int measured() const { return int(traces_.size()); }
  // Grows every cache to the next length, counts its bytes, times timed_tokens decode steps with each, times
  // one pass without a cache, and records the loaded model's trace there. A call past the last length does nothing.
  void measure_next();

  const std::vector<int>& lengths() const { return lengths_; }
  int timed_tokens() const { return timed_tokens_; }
  const std::vector<WallSeries>& series() const { return series_; }  // the full cache first, then "compare"
  const std::vector<StepTrace>& traces() const { return traces_; }

 private:
  struct Run;  // a cache, its model and how far it has been fed
  LoadedModel model_;
  std::vector<int> tokens_, lengths_;
  int timed_tokens_ = 0;
  std::vector<WallSeries> series_;
  std::vector<std::unique_ptr<Run>> runs_;
  std::vector<StepTrace> traces_;
};

}  // namespace kvscope
