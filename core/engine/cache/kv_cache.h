#pragma once
// KvCache: per layer, the K and V rows of the positions seen so far, indexed by position.
// Per layer K and V are [capacity, kv_dim] (KV heads side by side, KV head g in columns g*d_head..;
// kv_dim = n_kv_head x d_head, d_model for GPT-2): the shape [layers, KV heads, t, d_head] where only
// t grows. Without a window the storage grows by doubling as positions arrive (a 40,960-position
// context is not allocated up front); with a sliding window of W it is W rows, allocated once, and
// position p lives in slot p % W (a ring), so writing p evicts p - W. The window is per layer: a
// local layer (Gemma 3) is a ring of its own window, a global one grows, and the session's
// model-wide window bounds every layer (ModelConfig::effective_window). Attention reads it through
// KvRows (core/engine/cache/kv_rows.h), like the policy-managed cache.
// Rows are stored as float32, or as F16 / BF16 (llama.cpp's default cache is F16): half the bytes held
// and read, each value rounded to nearest on write; attention reads the 16-bit rows as stored.
// MLA (ModelConfig::mla): the "K" row of a position is its latent row and rotated shared key,
// [kv_lora_rank + qk_rope_dim], and there is no V row (V is rebuilt from the latent).
#include <cassert>
#include <cstdint>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/cache/kv_rows.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {

class KvCache final : public KvRows {
 public:
  KvCache() = default;
  // window == 0: no model-wide window (layers keep their own, if any); positions are refused past
  // the context length by the caller.
  // dtype F16 / BF16: not for MLA (its latent rows stay float32; UsageError).
  KvCache(const ModelConfig& config, int window, WeightDtype dtype = WeightDtype::F32);

  int n_layer() const { return int(keys_.size()); }
  int row_dim() const { return row_dim_; }  // floats per K row: kv_dim (MLA: latent + rotated key)
  int value_dim() const { return value_dim_; }  // floats per V row: kv_dim (MLA: 0, no V rows)
  // Rows allocated for `layer`: its ring, or what the growing storage has reached.
  int capacity(int layer = 0) const { return rings_[std::size_t(layer)] > 0 ? rings_[std::size_t(layer)] : capacity_; }
  int window() const { return window_; }  // the model-wide window (0 = none)
  WeightDtype dtype() const { return dtype_; }
  int ring(int layer) const { return rings_[std::size_t(layer)]; }  // slots of the layer's ring; 0: it grows
  bool has_ring() const;  // some layer overwrites rows
  // Positions 0..next_position()-1 have been written; the next token goes to next_position().
  int next_position() const override { return next_position_; }
  // Oldest position a layer still holds (0 until its window starts evicting). Every layer alike
  // unless the model has local layers.
  int first_held(int layer = 0) const;
  int rows_held(int layer = 0) const { return next_position_ - first_held(layer); }
  std::int64_t rows_held_all_layers() const;

  // float32 rows only (a 16-bit cache is read through read_layer).
  const float* key_row(int layer, int position) const {
    assert(dtype_ == WeightDtype::F32 && "a 16-bit cache's rows are read through read_layer");
    return keys_[layer].row(slot(layer, position)).data();
  }
  const float* value_row(int layer, int position) const {
    assert(dtype_ == WeightDtype::F32 && "a 16-bit cache's rows are read through read_layer");
    return values_[layer].row(slot(layer, position)).data();
  }

  // Writes one position's K and V rows (each row_dim floats) for one layer. Positions are written in
  // order: all layers of position p, then p + 1; advance() moves next_position() on.
  void write(int layer, int position, const float* key, const float* value) override;
  void advance(int n_positions) override { next_position_ += n_positions; }

  // KvRows: every KV head holds first_held(layer)..next_position()-1; the view is the storage itself.
  void held_positions(int layer, int kv_head, std::vector<int>& out) const override;
  KvLayerView read_layer(int layer) override;

  // Storage for `positions` rows in every growing layer now. A caller that knows the sequence's length
  // (the bench's sweep) then never grows the storage on the way, whose copies the allocator may keep.
  void reserve(int positions) {
    if (positions > capacity_) grow_to(positions);
  }

  // Empty again: position 0, nothing held. Storage is kept.
  void reset() { next_position_ = 0; }
  // Forget positions >= position (step back). Rows a window overwrote must be restored by the caller.
  void truncate(int position);

  // Bytes of the rows held now: the sum over layers of (K + V row values) x rows held x 4 (2 for a 16-bit
  // dtype; grows by one position per token and layer until the layer's window is full): 2 x kv_dim, or
  // MLA's latent + key.
  std::int64_t bytes_held() const override {
    return std::int64_t(row_dim_ + value_dim_) * rows_held_all_layers() * dtype_bytes(dtype_);
  }
  // Bytes allocated now.
  std::int64_t bytes_allocated() const override;

 private:
  int slot(int layer, int position) const {
    const int r = rings_[std::size_t(layer)];
    return r > 0 ? position % r : position;
  }
  void grow_to(int rows);
  void resize_layer(int layer, int rows);  // storage for `rows` rows, keeping those held

  std::vector<Matrix> keys_;    // per layer [capacity, kv_dim] (float32; empty for a 16-bit dtype)
  std::vector<Matrix> values_;  // per layer [capacity, kv_dim] (MLA: [capacity, 0])
  std::vector<std::vector<std::uint16_t>> keys16_, values16_;  // 16-bit dtype: per layer [capacity, kv_dim] bits
  int row_dim_ = 0;
  int value_dim_ = 0;
  std::vector<int> rings_;  // per layer: W slots with a window; 0 without (slot = position)
  int capacity_ = 0;  // rows allocated per growing layer
  int window_ = 0;
  int next_position_ = 0;
  WeightDtype dtype_ = WeightDtype::F32;
};

}  // namespace kvscope
