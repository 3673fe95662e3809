#pragma once
// Model: GPT-2's forward pass (pre-LayerNorm blocks, causal multi-head attention, tanh-GELU MLP,
// tied output head), run two ways over the same code:
//   forward_cached:   feed the new tokens only; K and V of earlier positions come from the KvCache.
//   forward_uncached: re-run the whole sequence into a scratch cache that is thrown away afterwards.
// A sliding window of W (0 = none) lets a query at position p see keys p-W+1..p in both ways.
#include <vector>

#include "core/config.h"
#include "core/forward_record.h"
#include "core/kv_cache.h"
#include "core/weights.h"

namespace kvscope {

// Buffers reused from call to call so a cached decode step allocates nothing once warmed up.
struct ForwardScratch {
  Matrix x;                         // [n, d] residual stream of the new positions
  Matrix normed, qkv, mixed, projected, hidden;  // [n, d], [n, 3d], [n, d], [n, d], [n, 4d]
  Matrix last, out;                 // [1, d] newest row after ln_f, [1, vocab] its logits
  std::vector<float> weights_row;   // one query's attention weights over key positions
};

class Model {
 public:
  Model(ModelConfig config, ModelWeights weights);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }

  // Appends tokens at positions cache.next_position()... and returns the logits [vocab] of the
  // newest position. record may be null. The caller checks positions against the context limit.
  void forward_cached(const std::vector<int>& tokens, KvCache& cache, int window, RowVector& logits,
                      ForwardRecord* record, ForwardScratch* scratch = nullptr) const;

  // Recomputes every position of tokens from nothing; returns the logits of the last position.
  void forward_uncached(const std::vector<int>& tokens, int window, RowVector& logits,
                        ForwardRecord* record) const;

  // Row of the learned position table used for a position: positions past the table (reachable only
  // with a sliding window) wrap around, identically in both ways.
  int position_row(int position) const { return position % config_.context_length; }

 private:
  void run_layer(int layer, ForwardScratch& s, int first_position, KvCache& cache, int window,
                 LayerRecord* record, bool with_attention, bool with_rows) const;

  ModelConfig config_;
  ModelWeights weights_;
};

}  // namespace kvscope
