#include "core/engine/cache/rollback_cache.h"

#include "core/engine/kernels/error.h"

namespace kvscope {

RollbackCache::RollbackCache(const ModelConfig& config, int block_size) {
  if (block_size <= 0) {
    // Every row kept, local layers included: a ring would overwrite rows a rollback must find again.
    // Attention still masks by each layer's window (the model's config says it, not the cache).
    ModelConfig all_rows = config;
    all_rows.layer_windows.clear();
    contiguous_ = KvCache(all_rows, 0);
    return;
  }
  if (config.mla()) throw UsageError("the paged pool holds K/V rows; an MLA model caches latent rows (use contiguous caches)");
  const int blocks = (config.context_length + block_size - 1) / block_size;
  pool_ = std::make_unique<BlockPool>(config.n_layer, config.kv_dim(), block_size, blocks);
  paged_ = std::make_unique<PagedCache>(*pool_, 0);
}

void RollbackCache::reserve(int n_positions) {
  if (paged_) paged_->reserve(n_positions, events_);
}

int RollbackCache::truncate(int position) {
  if (paged_) {
    const std::size_t at = events_.size();
    const int dropped = paged_->truncate(position, events_);
    if (dropped > 0)  // said before the blocks it lets go, as the batch session says it
      events_.insert(events_.begin() + std::ptrdiff_t(at),
                     {BlockEventKind::Truncate, paged_->sequence(), -1, -1, position, dropped});
    return dropped;
  }
  const int dropped = contiguous_.next_position() - position;
  contiguous_.truncate(position);
  return dropped;
}

}  // namespace kvscope
