#pragma once
// KvRows: the one interface attention reads a KV cache through, as llama.cpp's cache hands out
// read-only views: which positions a layer's KV head holds, a view of the layer's K and V rows (float32,
// or 16-bit as a KvCache of that dtype stores them), and the bytes held. KvCache (contiguous or ring), PolicyKvCache (evicting, quantizing) and
// PagedCache (a block table over a BlockPool) implement it; Model::forward_cached writes and reads
// only through it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/engine/kernels/stored_dtype.h"

namespace kvscope {

// One layer's K and V rows as attention reads them, [slots, row_dim] each, row-major, in `dtype`: float32
// rows at keys/values, or F16 / BF16 bits at keys16/values16 (a cache made with a 16-bit dtype: the
// kernels read them as stored). Valid until the cache is written again. Paged: slots are a pool's
// [n_blocks x block_size] rows and position p is in slot block_table[p / block_size] x block_size +
// p % block_size (vLLM's PagedAttention).
struct KvLayerView {
  const float* keys = nullptr;
  const float* values = nullptr;
  int row_dim = 0;  // kv_dim: KV heads side by side (MLA: a latent row and rotated key; no V rows)
  int ring = 0;     // slots of a ring: position p is in slot p % ring; 0: slot = position
  const int* block_table = nullptr;  // paged: block id per block_size positions; null otherwise
  int block_size = 0;
  WeightDtype dtype = WeightDtype::F32;
  const std::uint16_t* keys16 = nullptr;  // F16 / BF16: the rows' bits (keys and values are then null)
  const std::uint16_t* values16 = nullptr;

  std::size_t slot(int position) const {
    if (block_table)
      return std::size_t(block_table[position / block_size]) * std::size_t(block_size) + std::size_t(position % block_size);
    return std::size_t(ring > 0 ? position % ring : position);
  }
  const float* key_row(int position) const { return keys + slot(position) * std::size_t(row_dim); }
  const float* value_row(int position) const { return values + slot(position) * std::size_t(row_dim); }
  const std::uint16_t* key_row16(int position) const { return keys16 + slot(position) * std::size_t(row_dim); }
  const std::uint16_t* value_row16(int position) const { return values16 + slot(position) * std::size_t(row_dim); }
};

class KvRows {
 public:
  virtual ~KvRows() = default;

  // Positions 0..next_position()-1 have been written; the next token goes to next_position().
  virtual int next_position() const = 0;
  // The positions below next_position() that KV head `kv_head` of `layer` holds, ascending, into out.
  virtual void held_positions(int layer, int kv_head, std::vector<int>& out) const = 0;
  // The rows of the held positions, as floats (a quantized cache dequantizes them here: hence not const).
  virtual KvLayerView read_layer(int layer) = 0;
  // Writes one position's K and V rows (row_dim floats each; MLA: the cached row, value null) for one layer; positions in order, all
  // layers of p before p + 1. advance() then moves next_position() on.
  virtual void write(int layer, int position, const float* key, const float* value) = 0;
  virtual void advance(int n_positions) = 0;
  // Bytes of what the cache holds now, scales included.
  virtual std::int64_t bytes_held() const = 0;
  virtual std::int64_t bytes_allocated() const = 0;
};

}  // namespace kvscope
