#include "core/engine/kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/engine/error.h"

namespace kvscope {

KvCache::KvCache(const ModelConfig& config, int window)
    : row_dim_(config.kv_dim()), ring_(window > 0 ? std::min(window, config.context_length) : 0), window_(window) {
  if (window < 0) throw UsageError("window must be positive, got " + std::to_string(window));
  capacity_ = ring_;
  keys_.assign(config.n_layer, Matrix::Zero(capacity_, row_dim_));
  values_.assign(config.n_layer, Matrix::Zero(capacity_, row_dim_));
}

int KvCache::first_held() const { return ring_ > 0 ? std::max(0, next_position_ - ring_) : 0; }

void KvCache::grow_to(int rows) {
  capacity_ = rows;
  for (Matrix& k : keys_) k.conservativeResize(capacity_, row_dim_);  // RowMajor: rows held stay put
  for (Matrix& v : values_) v.conservativeResize(capacity_, row_dim_);
}

void KvCache::write(int layer, int position, const float* key, const float* value) {
  assert(layer >= 0 && layer < n_layer() && "layer out of range");
  assert(position >= 0 && "positions are never negative");
  if (ring_ == 0 && position >= capacity_) grow_to(std::max({position + 1, 2 * capacity_, 16}));
  std::memcpy(keys_[layer].row(slot(position)).data(), key, sizeof(float) * row_dim_);
  std::memcpy(values_[layer].row(slot(position)).data(), value, sizeof(float) * row_dim_);
}

void KvCache::held_positions(int, int, std::vector<int>& out) const {
  out.clear();
  for (int p = first_held(); p < next_position_; ++p) out.push_back(p);
}

KvLayerView KvCache::read_layer(int layer) {
  return KvLayerView{keys_[layer].data(), values_[layer].data(), row_dim_, ring_};
}

void KvCache::truncate(int position) {
  assert(position >= 0 && position <= next_position_ && "can only truncate backwards");
  next_position_ = position;
}

}  // namespace kvscope
