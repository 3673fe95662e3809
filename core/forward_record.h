#pragma once
// ForwardRecord: what one forward call computed, layer by layer. The model fills it when asked
// (the callback-free version of llama.cpp's cb(cur, name, layer)); the session turns it into a trace.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace kvscope {

// Multiply-adds of one layer, by part. Closed forms for n new rows, d = d_model, keys_i = keys read by
// query row i: qkv n*d*3d, scores sum(keys_i)*d, weighted_values sum(keys_i)*d, out_proj n*d*d, mlp n*8d^2.
struct LayerMacs {
  std::int64_t qkv = 0;
  std::int64_t scores = 0;
  std::int64_t weighted_values = 0;
  std::int64_t out_proj = 0;
  std::int64_t mlp = 0;
  std::int64_t total() const { return qkv + scores + weighted_values + out_proj + mlp; }
};

struct LayerRecord {
  std::vector<int> computed_rows;  // positions whose K and V were projected in this call
  std::vector<int> reused_rows;    // positions whose K and V were read back from the cache
  std::vector<int> evicted_rows;   // positions the sliding window dropped from the cache in this call
  std::int64_t keys_read = 0;      // K rows read by attention, summed over the query rows
  LayerMacs macs;
  // attention[h] is [n_query_rows, key_end]: row i is the query at position query_begin + i, column k
  // the weight on key position k; cells outside the causal window are 0.
  std::vector<Matrix> attention;
  Matrix keys;         // [n_computed, d_model] the K rows computed here, in computed_rows order
  Matrix values;       // [n_computed, d_model]
  RowVector query;     // [d_model] the newest query row (used once, never cached)
  Matrix queries;      // [n_computed, d_model] every query row of this call (the lessons' Q check)
};

struct ForwardRecord {
  int query_begin = 0;  // first position fed
  int key_end = 0;      // one past the newest position
  std::vector<LayerRecord> layers;
  std::int64_t output_head_macs = 0;  // d_model * vocab: logits of the newest position only
  bool with_attention = true;
  bool with_rows = true;  // keys, values and query values

  std::int64_t total_macs() const {
    std::int64_t total = output_head_macs;
    for (const LayerRecord& l : layers) total += l.macs.total();
    return total;
  }
};

}  // namespace kvscope
