#include "core/engine/kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/engine/error.h"

namespace kvscope {

KvCache::KvCache(const ModelConfig& config, int window)
    : row_dim_(config.kv_dim()),
      capacity_(window > 0 ? std::min(window, config.context_length) : config.context_length),
      window_(window) {
  if (window < 0) throw UsageError("window must be positive, got " + std::to_string(window));
  keys_.assign(config.n_layer, Matrix::Zero(capacity_, row_dim_));
  values_.assign(config.n_layer, Matrix::Zero(capacity_, row_dim_));
}

int KvCache::first_held() const { return std::max(0, next_position_ - capacity_); }

void KvCache::write(int layer, int position, const float* key, const float* value) {
  assert(layer >= 0 && layer < n_layer() && "layer out of range");
  assert(position >= 0 && "positions are never negative");
  std::memcpy(keys_[layer].row(slot(position)).data(), key, sizeof(float) * row_dim_);
  std::memcpy(values_[layer].row(slot(position)).data(), value, sizeof(float) * row_dim_);
}

void KvCache::truncate(int position) {
  assert(position >= 0 && position <= next_position_ && "can only truncate backwards");
  next_position_ = position;
}

}  // namespace kvscope
