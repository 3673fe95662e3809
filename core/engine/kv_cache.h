#pragma once
// KvCache: per layer, the K and V rows of the positions seen so far, indexed by position.
// Per layer K and V are [capacity, kv_dim] (KV heads side by side, KV head g in columns g*d_head..;
// kv_dim = n_kv_head x d_head, d_model for GPT-2): the shape [layers, KV heads, t, d_head] where only
// t grows. Without a window the storage grows by doubling as positions arrive (a 40,960-position
// context is not allocated up front); with a sliding window of W it is W rows, allocated once, and
// position p lives in slot p % W (a ring), so writing p evicts p - W. Attention reads it through
// KvRows (core/engine/kv_rows.h), like the policy-managed cache.
#include <cstdint>
#include <vector>

#include "core/engine/config.h"
#include "core/engine/kv_rows.h"
#include "core/engine/tensor.h"

namespace kvscope {

class KvCache final : public KvRows {
 public:
  KvCache() = default;
  // window == 0: no window; positions are refused past the context length by the caller.
  KvCache(const ModelConfig& config, int window);

  int n_layer() const { return int(keys_.size()); }
  int row_dim() const { return row_dim_; }  // kv_dim: floats per K (or V) row
  int capacity() const { return capacity_; }
  int window() const { return window_; }
  // Positions 0..next_position()-1 have been written; the next token goes to next_position().
  int next_position() const override { return next_position_; }
  // Oldest position still held (0 until the window starts evicting).
  int first_held() const;
  int rows_held() const { return next_position_ - first_held(); }

  const float* key_row(int layer, int position) const { return keys_[layer].row(slot(position)).data(); }
  const float* value_row(int layer, int position) const { return values_[layer].row(slot(position)).data(); }

  // Writes one position's K and V rows (each row_dim floats) for one layer. Positions are written in
  // order: all layers of position p, then p + 1; advance() moves next_position() on.
  void write(int layer, int position, const float* key, const float* value) override;
  void advance(int n_positions) override { next_position_ += n_positions; }

  // KvRows: every KV head holds first_held()..next_position()-1; the view is the storage itself.
  void held_positions(int layer, int kv_head, std::vector<int>& out) const override;
  KvLayerView read_layer(int layer) override;

  // Empty again: position 0, nothing held. Storage is kept.
  void reset() { next_position_ = 0; }
  // Forget positions >= position (step back). Rows a window overwrote must be restored by the caller.
  void truncate(int position);

  // Bytes of the rows held now: 2 x layers x kv_dim x rows x 4 (grows by one position per token).
  std::int64_t bytes_held() const override { return 2LL * n_layer() * row_dim_ * rows_held() * 4; }
  // Bytes allocated now.
  std::int64_t bytes_allocated() const override { return 2LL * n_layer() * row_dim_ * capacity_ * 4; }

 private:
  int slot(int position) const { return ring_ > 0 ? position % ring_ : position; }
  void grow_to(int rows);

  std::vector<Matrix> keys_;    // per layer [capacity, kv_dim]
  std::vector<Matrix> values_;  // per layer [capacity, kv_dim]
  int row_dim_ = 0;
  int ring_ = 0;      // W slots with a window; 0 without (slot = position)
  int capacity_ = 0;  // rows allocated per layer
  int window_ = 0;
  int next_position_ = 0;
};

}  // namespace kvscope
