#include "core/engine/cache/kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/engine/model/key_span.h"

#include "core/engine/kernels/error.h"

namespace kvscope {

KvCache::KvCache(const ModelConfig& config, int window)
    : row_dim_(config.cache_key_dim()), value_dim_(config.cache_value_dim()), window_(window) {
  if (window < 0) throw UsageError("window must be positive, got " + std::to_string(window));
  keys_.resize(std::size_t(config.n_layer));
  values_.resize(std::size_t(config.n_layer));
  for (int l = 0; l < config.n_layer; ++l) {
    const int w = config.effective_window(l, window);
    rings_.push_back(w > 0 ? std::min(w, config.context_length) : 0);
    keys_[std::size_t(l)] = Matrix::Zero(rings_.back(), row_dim_);
    values_[std::size_t(l)] = Matrix::Zero(rings_.back(), value_dim_);
  }
}

bool KvCache::has_ring() const {
  return std::any_of(rings_.begin(), rings_.end(), [](int r) { return r > 0; });
}

int KvCache::first_held(int layer) const {
  return visible_span(next_position_ - 1, rings_[std::size_t(layer)]).first;
}

std::int64_t KvCache::rows_held_all_layers() const {
  std::int64_t rows = 0;
  for (int l = 0; l < n_layer(); ++l) rows += rows_held(l);
  return rows;
}

std::int64_t KvCache::bytes_allocated() const {
  std::int64_t rows = 0;
  for (int l = 0; l < n_layer(); ++l) rows += capacity(l);
  return std::int64_t(row_dim_ + value_dim_) * rows * 4;
}

// Only the growing layers grow; a ring keeps its W rows.
void KvCache::grow_to(int rows) {
  capacity_ = rows;
  for (int l = 0; l < n_layer(); ++l) {
    if (rings_[std::size_t(l)] > 0) continue;
    keys_[std::size_t(l)].conservativeResize(capacity_, row_dim_);  // RowMajor: rows held stay put
    values_[std::size_t(l)].conservativeResize(capacity_, value_dim_);
  }
}

void KvCache::write(int layer, int position, const float* key, const float* value) {
  assert(layer >= 0 && layer < n_layer() && "layer out of range");
  assert(position >= 0 && "positions are never negative");
  if (rings_[std::size_t(layer)] == 0 && position >= capacity_) grow_to(std::max({position + 1, 2 * capacity_, 16}));
  std::memcpy(keys_[layer].row(slot(layer, position)).data(), key, sizeof(float) * row_dim_);
  if (value_dim_ > 0) std::memcpy(values_[layer].row(slot(layer, position)).data(), value, sizeof(float) * value_dim_);
}

void KvCache::held_positions(int layer, int, std::vector<int>& out) const {
  out.clear();
  for (int p = first_held(layer); p < next_position_; ++p) out.push_back(p);
}

KvLayerView KvCache::read_layer(int layer) {
  return KvLayerView{keys_[layer].data(), values_[layer].data(), row_dim_, rings_[std::size_t(layer)]};
}

void KvCache::truncate(int position) {
  assert(position >= 0 && position <= next_position_ && "can only truncate backwards");
  next_position_ = position;
}

}  // namespace kvscope
