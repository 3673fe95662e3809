#include "core/engine/cache/paged_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace kvscope {

PagedCache::~PagedCache() { release_all_silently(); }

PagedCache::PagedCache(PagedCache&& other) noexcept
    : pool_(other.pool_), table_(std::move(other.table_)), next_position_(other.next_position_), sequence_(other.sequence_) {
  other.table_.clear();
  other.next_position_ = 0;
}

PagedCache& PagedCache::operator=(PagedCache&& other) noexcept {
  if (this == &other) return *this;
  release_all_silently();
  pool_ = other.pool_;
  table_ = std::move(other.table_);
  next_position_ = other.next_position_;
  sequence_ = other.sequence_;
  other.table_.clear();
  other.next_position_ = 0;
  return *this;
}

void PagedCache::release_all_silently() {
  for (int block : table_) pool_->release(block);
  table_.clear();
  next_position_ = 0;
}

void PagedCache::held_positions(int, int, std::vector<int>& out) const {
  out.clear();
  for (int p = 0; p < next_position_; ++p) out.push_back(p);
}

KvLayerView PagedCache::read_layer(int layer) {
  KvLayerView view;
  view.keys = pool_->layer_keys(layer);
  view.values = pool_->layer_values(layer);
  view.row_dim = pool_->row_dim();
  view.block_table = table_.data();
  view.block_size = pool_->block_size();
  return view;
}

void PagedCache::write(int layer, int position, const float* key, const float* value) {
  const int b = block_size(), k = position / b;
  assert(position >= 0 && k < int(table_.size()) && "reserve() the positions before writing them");
  assert(pool_->ref_count(table_[std::size_t(k)]) == 1 && "a shared block is copied before it is written");
  const std::size_t bytes = sizeof(float) * std::size_t(pool_->row_dim());
  std::memcpy(pool_->key_row(layer, table_[std::size_t(k)], position % b), key, bytes);
  std::memcpy(pool_->value_row(layer, table_[std::size_t(k)], position % b), value, bytes);
}

void PagedCache::advance(int n_positions) {
  assert(next_position_ + n_positions <= int(table_.size()) * block_size() && "advance only over reserved slots");
  next_position_ += n_positions;
}

std::int64_t PagedCache::bytes_held() const { return pool_ ? pool_->bytes_per_row() * next_position_ : 0; }

std::int64_t PagedCache::bytes_allocated() const {
  return pool_ ? pool_->bytes_per_row() * block_size() * std::int64_t(table_.size()) : 0;
}

int PagedCache::rows_in_block(int k) const {
  return std::clamp(next_position_ - k * block_size(), 0, block_size());
}

void PagedCache::reserve(int n_positions, std::vector<BlockEvent>& events) {
  const int b = block_size();
  // The next position falls inside the last block when next_position_ is not a multiple of B (or the
  // table was kept past a rollback): if other sequences hold that block, write into a copy.
  const int k = next_position_ / b;
  if (n_positions > 0 && k < int(table_.size())) {
    const int shared = table_[std::size_t(k)];
    if (pool_->ref_count(shared) > 1) {
      const int rows = rows_in_block(k);
      const int copy = pool_->copy_block(shared, rows);
      table_[std::size_t(k)] = copy;
      events.push_back({BlockEventKind::CopyOnWrite, sequence_, copy, shared, -1, rows});
      let_go(shared, events);
    }
  }
  const int blocks_needed = (next_position_ + n_positions + b - 1) / b;
  while (int(table_.size()) < blocks_needed) {
    table_.push_back(pool_->allocate());
    events.push_back({BlockEventKind::Allocate, sequence_, table_.back(), -1, -1, 1});
  }
}

void PagedCache::share_prefix(const std::vector<int>& blocks, std::vector<BlockEvent>& events) {
  assert(table_.empty() && next_position_ == 0 && "a prefix is shared into an empty cache");
  for (int block : blocks) {
    table_.push_back(block);
    events.push_back({BlockEventKind::Share, sequence_, block, -1, -1, pool_->retain(block)});
  }
  next_position_ = int(blocks.size()) * block_size();
}

PagedCache PagedCache::fork(int sequence, std::vector<BlockEvent>& events) {
  PagedCache branch(*pool_, sequence);
  events.push_back({BlockEventKind::Fork, sequence, -1, sequence_, -1, int(table_.size())});
  for (int block : table_) {
    branch.table_.push_back(block);
    events.push_back({BlockEventKind::Share, sequence, block, -1, -1, pool_->retain(block)});
  }
  branch.next_position_ = next_position_;
  return branch;
}

int PagedCache::truncate(int position, std::vector<BlockEvent>& events) {
  assert(position >= 0 && position <= next_position_ && "can only truncate backwards");
  const int dropped = next_position_ - position;
  next_position_ = position;
  const std::size_t keep = std::size_t((position + block_size() - 1) / block_size());
  while (table_.size() > keep) {
    const int block = table_.back();
    table_.pop_back();
    let_go(block, events);
  }
  return dropped;
}

void PagedCache::let_go(int block, std::vector<BlockEvent>& events) {
  const int count = pool_->release(block);
  events.push_back({count == 0 ? BlockEventKind::Free : BlockEventKind::Release, sequence_, block, -1, -1, count});
}

}  // namespace kvscope
