#pragma once
// ForwardRecord: what one forward call computed, layer by layer. The model fills it when asked
// (the callback-free version of llama.cpp's cb(cur, name, layer)); the session turns it into a trace.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/engine/kernels/tensor.h"
#include "core/engine/model/key_span.h"

namespace kvscope {

// Multiply-adds of one layer, by part. Closed forms for n new rows, d = d_model, keys_i = keys read by
// query row i: qkv n*d*(q_dim + 2 kv_dim), scores sum(keys_i)*q_dim, weighted_values sum(keys_i)*q_dim,
// out_proj n*q_dim*d, mlp n*2*d*d_ff (GPT-2) or n*3*d*d_ff (SwiGLU). GPT-2: q_dim = kv_dim = d, d_ff = 4d.
// MLA: qkv n*d*(q_dim + r + rope) (Q, the latent and the shared key of the new rows), and rebuild
// rebuilt*r*(heads*nope + q_dim): K and V re-expanded from every latent row read (r = kv_lora_rank).
struct LayerMacs {
  std::int64_t qkv = 0;
  std::int64_t rebuild = 0;  // MLA only: K and V rebuilt from cached latent rows
  std::int64_t scores = 0;
  std::int64_t weighted_values = 0;
  std::int64_t out_proj = 0;
  std::int64_t mlp = 0;
  std::int64_t total() const { return qkv + rebuild + scores + weighted_values + out_proj + mlp; }
};


// A long call's attention weights for the picture, when keeping each one would not fit
// (ForwardRecord::exact_attention_bytes): square cells of `cell` positions a side, cell (r, c) covering
// query positions [r * cell, (r + 1) * cell) and key positions [c * cell, (c + 1) * cell). Each holds the
// largest weight of its (query, key) pairs and their mean, masked pairs counting as 0 (a downscaled
// picture); max is -1 where the cell's queries read none of its keys (all masked).
struct PooledAttention {
  int cell = 0;            // positions per cell side; 0: not pooled
  int row_cell_begin = 0;  // the cell row of the call's first query position (rows before it were not computed)
  std::vector<Matrix> max, mean;  // per query head [cell rows of the call's queries, cells over 0..key_end-1]
  bool empty() const { return cell == 0; }
};

// While a pooled call runs: per query head [n_rows, key cells], each row's largest weight and sum per
// cell of keys (each row is written by one thread; finish_attention folds them into cells). Owned by the
// forward pass's scratch, so its memory is reused from layer to layer and call to call.
struct PooledRows {
  std::vector<Matrix> max, sum;
};

// How a call keeps its attention weights (ForwardRecord::keep_for).
struct AttentionKeep {
  bool weights = false;  // anything at all (the newest row at least)
  bool exact = false;    // LayerRecord::attention, every weight
  int cell = 0;          // LayerRecord::pooled's cell side (0: not pooled)
};

struct LayerRecord {
  int window = 0;                  // the window this layer attended with (0: every earlier key)
  std::vector<int> computed_rows;  // positions whose K and V were projected in this call
  std::vector<int> reused_rows;    // positions whose K and V were read back from the cache
  std::vector<int> evicted_rows;   // positions the sliding window dropped from the cache in this call
  std::vector<int> held_rows;      // positions the cache holds after this call (empty: no cache kept)
  std::vector<KeySpan> visible_keys;  // per query row (position query_begin + i): the keys it may see
                                      // (with a policy the span covers them; evicted ones inside it are not read)
  std::vector<int> row_keys_read;     // per query row: K rows it read (per query head; KV heads read as many)
  std::int64_t keys_read = 0;      // K rows read by attention, summed over the query rows
  LayerMacs macs;
  // attention[h] is [n_query_rows, key_end]: row i is the query at position query_begin + i, column k
  // the weight on key position k; cells outside the causal window are 0. Empty when a long call's
  // weights are kept pooled instead (then `pooled` and `newest_attention` hold them).
  std::vector<Matrix> attention;
  std::vector<RowVector> newest_attention;  // [h] the newest query row's weights over keys 0..key_end-1
  PooledAttention pooled;
  // [n_kv_head, key_end]: the attention each key position received in this call, summed over the query
  // rows and the query heads reading that KV head (H2O's score, accumulated by a heavy-hitter policy).
  Eigen::MatrixXd key_attention;
  // MLA: the cache holds latent rows; K and V exist only as temporaries rebuilt from them each call.
  Matrix latent_rows;     // [n_computed, kv_lora_rank + qk_rope_dim] rows written to the cache here: latent | rotated key
  std::vector<int> rebuilt_rows;  // positions whose K and V were rebuilt from their latent row in this call, ascending
  Matrix rebuilt_keys;    // [rebuilt_rows, kv_dim] those K rows (temporaries: never cached)
  Matrix rebuilt_values;  // [rebuilt_rows, kv_dim] those V rows
  Matrix keys;            // [n_computed, kv_dim] the K rows computed here (as cached: after rotation; MLA: rebuilt)
  Matrix keys_unrotated;  // [n_computed, kv_dim] the same K rows before rotary positions (rotary only)
  Matrix values;          // [n_computed, kv_dim]
  RowVector query;        // [q_dim] the newest query row (used once, never cached)
  Matrix queries;         // [n_computed, q_dim] every query row of this call (the lessons' Q check)

  // Filled by the attention beside its math; the record owns and sizes its buffers here.
  // Before the rows run: n_rows query rows over keys 0..key_end-1, what the record keeps (attention
  // weights, key_attention) sized and zeroed.
  void begin_attention(int n_head, int n_kv_head, int n_rows, int key_end, int window_used, AttentionKeep keep,
                       bool received, PooledRows* rows);
  // Query row `row` of head h gave weights[j] / divisor to key position keys[j] (each row of a head once;
  // rows may come from different threads).
  void keep_weights(int h, int row, const int* keys, const float* weights, int count, float divisor);
  // Query row `row` read `count` keys from `first` to `last` (its KV head 0's list: every head reads as many).
  void row_read(int row, int first, int last, int count) {
    visible_keys[std::size_t(row)] = KeySpan{first, last};
    row_keys_read[std::size_t(row)] = count;
  }
  // After the rows: the cached positions some row read (any KV head), from what each KV head held;
  // the pooled cells folded from their rows.
  void finish_attention(const std::vector<std::vector<int>>& held_by_kv_head, int first_position);

 private:
  PooledRows* rows_ = nullptr;  // from begin_attention to finish_attention of a pooled call
  int newest_row_ = -1;
};

struct ForwardRecord {
  int query_begin = 0;  // first position fed
  int key_end = 0;      // one past the newest position
  std::vector<LayerRecord> layers;
  std::vector<int> kv_head_of_query;  // per query head, the K/V head it reads (GQA groups)
  std::int64_t output_head_macs = 0;  // d_model * vocab: logits of the newest position only
  bool with_attention = true;
  bool with_key_attention = false;  // LayerRecord::key_attention
  bool with_rows = true;  // keys, values and query values
  // Attention weights of all layers are kept exact up to this many bytes a call; past it, and only for
  // calls over more than pool_above_positions keys, pooled into cells of about pool_cells a side.
  std::int64_t exact_attention_bytes = std::int64_t(256) << 20;
  int pool_above_positions = 512;
  int pool_cells = 160;

  // What a call of n_rows query rows over key_end keys keeps of its attention weights.
  AttentionKeep keep_for(int n_rows, int key_end, int n_head) const;

  // Whether the query at `query` read key position `key` in `layer`: inside its visible span, and either
  // fed in this call or read back from the cache (a cache policy may have evicted the others). False for
  // a query this call did not compute.
  bool key_read(int layer, int query, int key) const {
    if (layer < 0 || layer >= int(layers.size())) return false;
    const LayerRecord& l = layers[std::size_t(layer)];
    const int row = query - query_begin;
    if (row < 0 || row >= int(l.visible_keys.size()) || !l.visible_keys[std::size_t(row)].contains(key)) return false;
    return key >= query_begin || std::binary_search(l.reused_rows.begin(), l.reused_rows.end(), key);
  }

  std::int64_t total_macs() const {
    std::int64_t total = output_head_macs;
    for (const LayerRecord& l : layers) total += l.macs.total();
    return total;
  }
};

}  // namespace kvscope
