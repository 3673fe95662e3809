#pragma once
// PagedCache: one sequence's KV cache as a block table over a shared BlockPool (vLLM's PagedAttention).
// Position p lives in block block_table()[p / B], slot p % B (B = the pool's block size); the table
// grows by one block every B positions, so a sequence wastes at most B - 1 slots, in its last block.
// Several caches may hold the same block (a shared prefix, a fork): the pool counts the holders, and a
// cache about to write into a block others hold copies it first (copy on write, exactly one block).
// Attention reads it through KvRows like any cache: read_layer() hands out the pool's storage and the
// block table, and the attention code indexes through it. Every change to the blocks is reported as
// a BlockEvent labelled with the cache's sequence id.
#include <cstdint>
#include <vector>

#include "core/engine/cache/block_event.h"
#include "core/engine/cache/block_pool.h"
#include "core/engine/cache/kv_rows.h"

namespace kvscope {

class PagedCache final : public KvRows {
 public:
  PagedCache() = default;
  PagedCache(BlockPool& pool, int sequence) : pool_(&pool), sequence_(sequence) {}
  ~PagedCache() override;  // lets go of its blocks (no events: use truncate(0, ...) to see them)
  PagedCache(PagedCache&& other) noexcept;
  PagedCache& operator=(PagedCache&& other) noexcept;
  PagedCache(const PagedCache&) = delete;  // a copy would hold blocks without counting: use fork()
  PagedCache& operator=(const PagedCache&) = delete;

  // KvRows: positions 0..next_position()-1 are held, in every layer and KV head.
  int next_position() const override { return next_position_; }
  void held_positions(int layer, int kv_head, std::vector<int>& out) const override;
  KvLayerView read_layer(int layer) override;
  // The slot must be reserved and the block held by this cache alone (reserve() copies shared ones).
  void write(int layer, int position, const float* key, const float* value) override;
  void advance(int n_positions) override;
  // This sequence's view: its rows (shared ones included) and its blocks, as if nothing were shared.
  std::int64_t bytes_held() const override;
  std::int64_t bytes_allocated() const override;

  int sequence() const { return sequence_; }
  int block_size() const { return pool_->block_size(); }
  const std::vector<int>& block_table() const { return table_; }  // block id per B positions
  // Slots filled in the table's k-th block: B for all but the last.
  int rows_in_block(int k) const;

  // Makes positions next_position()..+n_positions-1 writable: a shared, partly filled last block is
  // copied first (copy_on_write), then blocks are allocated for the positions past the table.
  void reserve(int n_positions, std::vector<BlockEvent>& events);
  // An empty cache takes `blocks` (full blocks of another sequence with the same tokens) as its first
  // positions: blocks.size() x B positions held, each block shared.
  void share_prefix(const std::vector<int>& blocks, std::vector<BlockEvent>& events);
  // A new cache labelled `sequence` holding every block of this one (a branch).
  PagedCache fork(int sequence, std::vector<BlockEvent>& events);
  // Forgets positions >= position (rollback); blocks wholly past it are let go. Returns rows dropped.
  int truncate(int position, std::vector<BlockEvent>& events);

 private:
  void let_go(int block, std::vector<BlockEvent>& events);
  void release_all_silently();

  BlockPool* pool_ = nullptr;
  std::vector<int> table_;  // block ids, one per block_size positions (the last one may be part-filled)
  int next_position_ = 0;
  int sequence_ = -1;
};

}  // namespace kvscope
