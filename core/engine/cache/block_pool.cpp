#include "core/engine/cache/block_pool.h"

#include <algorithm>
#include <cassert>
#include <functional>

namespace kvscope {

BlockPool::BlockPool(int n_layer, int row_dim, int block_size, int n_blocks)
    : row_dim_(row_dim), block_size_(block_size) {
  if (block_size < 1) throw UsageError("block size must be a positive integer, got " + std::to_string(block_size));
  if (n_blocks < 1) throw UsageError("the block pool needs at least one block, got " + std::to_string(n_blocks));
  assert(n_layer >= 1 && row_dim >= 1 && "a pool for a model with layers and rows");
  const Eigen::Index rows = Eigen::Index(n_blocks) * block_size;
  keys_.assign(std::size_t(n_layer), Matrix::Zero(rows, row_dim));
  values_.assign(std::size_t(n_layer), Matrix::Zero(rows, row_dim));
  ref_count_.assign(std::size_t(n_blocks), 0);
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int BlockPool::allocate() {
  if (free_.empty())
    throw PoolFullError("the block pool is full: all " + std::to_string(n_blocks()) + " blocks of " +
                        std::to_string(block_size_) + " positions are in use");
  const int block = free_.back();
  free_.pop_back();
  ref_count_[std::size_t(block)] = 1;
  return block;
}

int BlockPool::retain(int block) {
  assert(ref_count(block) > 0 && "only a block in use can be shared");
  return ++ref_count_[std::size_t(block)];
}

int BlockPool::release(int block) {
  assert(ref_count(block) > 0 && "releasing a free block: a reference count went wrong");
  const int count = --ref_count_[std::size_t(block)];
  if (count == 0) {
    // Keep the free list sorted highest first, so allocate() always hands out the lowest free id.
    free_.insert(std::upper_bound(free_.begin(), free_.end(), block, std::greater<int>()), block);
  }
  return count;
}

int BlockPool::copy_block(int block, int rows) {
  assert(ref_count(block) > 0 && rows >= 0 && rows <= block_size_ && "copy the filled rows of a block in use");
  const int copy = allocate();
  for (std::size_t l = 0; l < keys_.size(); ++l) {
    keys_[l].middleRows(row_of(copy, 0), rows) = keys_[l].middleRows(row_of(block, 0), rows);
    values_[l].middleRows(row_of(copy, 0), rows) = values_[l].middleRows(row_of(block, 0), rows);
  }
  ++blocks_copied_;
  rows_copied_ += rows;
  return copy;
}

int BlockPool::blocks_shared() const {
  return int(std::count_if(ref_count_.begin(), ref_count_.end(), [](int c) { return c > 1; }));
}

}  // namespace kvscope
