#pragma once
// RollbackCache: one model's KV cache that rows can be taken back from, as speculative decoding needs
// (rows written for drafted tokens the target rejects are forgotten). Contiguous (KvCache::truncate) or
// paged in blocks over a pool of its own (PagedCache::truncate: blocks wholly past the cut go back to
// the pool, and the block events say so). Attention reads either through KvRows.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/engine/cache/block_event.h"
#include "core/engine/cache/block_pool.h"
#include "core/engine/cache/kv_cache.h"
#include "core/engine/cache/paged_cache.h"
#include "core/engine/model/config.h"

namespace kvscope {

class RollbackCache {
 public:
  // block_size 0: contiguous, every position kept (no ring, even for local layers: a rollback must find
  // the rows a ring would have overwritten); > 0: paged, blocks for the whole context. Throws UsageError
  // for a paged MLA cache (the pool holds K/V rows, MLA caches latent rows).
  RollbackCache(const ModelConfig& config, int block_size);

  KvRows& rows() { return paged_ ? static_cast<KvRows&>(*paged_) : contiguous_; }
  const KvRows& rows() const { return paged_ ? static_cast<const KvRows&>(*paged_) : contiguous_; }
  int next_position() const { return rows().next_position(); }
  // Before writing n positions: a paged cache takes the blocks they need.
  void reserve(int n_positions);
  // Forgets positions >= position; returns the rows dropped.
  int truncate(int position);
  bool paged() const { return paged_ != nullptr; }
  // Every block change so far (paged only), in order.
  const std::vector<BlockEvent>& events() const { return events_; }
  const PagedCache* paged_cache() const { return paged_.get(); }

 private:
  KvCache contiguous_;
  std::unique_ptr<BlockPool> pool_;
  std::unique_ptr<PagedCache> paged_;
  std::vector<BlockEvent> events_;
};

}  // namespace kvscope
