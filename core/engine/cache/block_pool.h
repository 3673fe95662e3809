#pragma once
// BlockPool: the K and V storage a paged cache shares between sequences, as fixed-size blocks (vLLM's
// block manager). A block holds block_size positions; per layer K and V are [n_blocks x block_size,
// kv_dim] (KV heads side by side), so block b's slot s is row b x block_size + s of every layer. Blocks
// are handed out from a free list and carry a reference count: a block shared by k sequences has count
// k; release() at count 1 puts it back on the free list. Nothing here knows about sequences or tokens
// (core/engine/cache/paged_cache.h maps positions to blocks).
#include <cstdint>
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {

// allocate() on a pool whose blocks are all in use. A usage error: the pool's size was chosen by the
// caller (kvscope-cli batch --pool-blocks), and the caller knows what it named it.
struct PoolFullError : UsageError {
  explicit PoolFullError(const std::string& message) : UsageError(message) {}
};

class BlockPool {
 public:
  // Throws UsageError for a block size or block count below 1.
  BlockPool(int n_layer, int row_dim, int block_size, int n_blocks);

  int n_layer() const { return int(keys_.size()); }
  int row_dim() const { return row_dim_; }      // kv_dim: floats per K (or V) row
  int block_size() const { return block_size_; }  // positions per block
  int n_blocks() const { return int(ref_count_.size()); }

  // A free block with reference count 1 (the lowest free id, so runs are reproducible). Throws
  // PoolFullError when every block is in use.
  int allocate();
  // One more sequence holds `block` (sharing); returns the new count.
  int retain(int block);
  // One fewer holds it; at 0 it is free again. Returns the new count.
  int release(int block);
  // Copy on write: a fresh block holding the first `rows` slots of `block` in every layer (only those
  // are copied: a shared partial block's filled rows). The caller then releases its hold on `block`.
  int copy_block(int block, int rows);

  int ref_count(int block) const { return ref_count_[std::size_t(block)]; }
  const std::vector<int>& ref_counts() const { return ref_count_; }  // per block id; 0 = free
  int blocks_free() const { return int(free_.size()); }
  int blocks_in_use() const { return n_blocks() - blocks_free(); }
  int blocks_shared() const;  // reference count above 1
  std::int64_t blocks_copied() const { return blocks_copied_; }  // copy_block calls so far
  std::int64_t rows_copied() const { return rows_copied_; }      // slots copied by them (per layer)
  // Bytes of K and V in one slot, every layer: 2 x layers x kv_dim x 4.
  std::int64_t bytes_per_row() const { return 2LL * n_layer() * row_dim_ * 4; }

  // K or V row of slot `slot` of `block` in `layer` (row_dim floats).
  float* key_row(int layer, int block, int slot) { return keys_[std::size_t(layer)].row(row_of(block, slot)).data(); }
  float* value_row(int layer, int block, int slot) { return values_[std::size_t(layer)].row(row_of(block, slot)).data(); }
  const float* key_row(int layer, int block, int slot) const { return keys_[std::size_t(layer)].row(row_of(block, slot)).data(); }
  const float* value_row(int layer, int block, int slot) const { return values_[std::size_t(layer)].row(row_of(block, slot)).data(); }
  // A layer's whole storage, [n_blocks x block_size, kv_dim] row-major, for a block table to index.
  const float* layer_keys(int layer) const { return keys_[std::size_t(layer)].data(); }
  const float* layer_values(int layer) const { return values_[std::size_t(layer)].data(); }

 private:
  Eigen::Index row_of(int block, int slot) const { return Eigen::Index(block) * block_size_ + slot; }

  std::vector<Matrix> keys_;    // per layer [n_blocks x block_size, kv_dim]
  std::vector<Matrix> values_;  // per layer [n_blocks x block_size, kv_dim]
  std::vector<int> ref_count_;  // per block: sequences holding it (0 = free)
  std::vector<int> free_;       // free block ids, highest first (allocate() pops the lowest)
  int row_dim_ = 0;
  int block_size_ = 0;
  std::int64_t blocks_copied_ = 0, rows_copied_ = 0;
};

}  // namespace kvscope
