#include "core/engine/cache/kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>

#include "core/engine/model/key_span.h"

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/half_float.h"

namespace kvscope {

KvCache::KvCache(const ModelConfig& config, int window, WeightDtype dtype)
    : row_dim_(config.cache_key_dim()), value_dim_(config.cache_value_dim()), window_(window), dtype_(dtype) {
  if (window < 0) throw UsageError("window must be positive, got " + std::to_string(window));
  if (dtype != WeightDtype::F32 && config.mla())
    throw UsageError(std::string("a ") + dtype_name(dtype) + " cache holds K and V rows: MLA's latent rows stay F32");
  keys_.resize(std::size_t(config.n_layer));
  values_.resize(std::size_t(config.n_layer));
  keys16_.resize(std::size_t(config.n_layer));
  values16_.resize(std::size_t(config.n_layer));
  for (int l = 0; l < config.n_layer; ++l) {
    const int w = config.effective_window(l, window);
    rings_.push_back(w > 0 ? std::min(w, config.context_length) : 0);
    resize_layer(l, rings_.back());
  }
}

void KvCache::resize_layer(int layer, int rows) {
  const std::size_t l = std::size_t(layer);
  if (dtype_ == WeightDtype::F32) {
    keys_[l].conservativeResize(rows, row_dim_);  // RowMajor: rows held stay put
    values_[l].conservativeResize(rows, value_dim_);
  } else {
    keys16_[l].resize(std::size_t(rows) * std::size_t(row_dim_));
    values16_[l].resize(std::size_t(rows) * std::size_t(value_dim_));
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
  return std::int64_t(row_dim_ + value_dim_) * rows * dtype_bytes(dtype_);
}

// Only the growing layers grow; a ring keeps its W rows.
void KvCache::grow_to(int rows) {
  capacity_ = rows;
  for (int l = 0; l < n_layer(); ++l) {
    if (rings_[std::size_t(l)] == 0) resize_layer(l, capacity_);
  }
}

void KvCache::write(int layer, int position, const float* key, const float* value) {
  assert(layer >= 0 && layer < n_layer() && "layer out of range");
  assert(position >= 0 && "positions are never negative");
  if (rings_[std::size_t(layer)] == 0 && position >= capacity_) grow_to(std::max({position + 1, 2 * capacity_, 16}));
  const int s = slot(layer, position);
  if (dtype_ == WeightDtype::F32) {
    std::memcpy(keys_[layer].row(s).data(), key, sizeof(float) * row_dim_);
    if (value_dim_ > 0) std::memcpy(values_[layer].row(s).data(), value, sizeof(float) * value_dim_);
    return;
  }
  auto narrow = dtype_ == WeightDtype::F16 ? float_to_half : float_to_bfloat16;
  std::uint16_t* k = keys16_[std::size_t(layer)].data() + std::size_t(s) * std::size_t(row_dim_);
  std::uint16_t* v = values16_[std::size_t(layer)].data() + std::size_t(s) * std::size_t(value_dim_);
  for (int c = 0; c < row_dim_; ++c) k[c] = narrow(key[c]);
  for (int c = 0; c < value_dim_; ++c) v[c] = narrow(value[c]);
}

void KvCache::held_positions(int layer, int, std::vector<int>& out) const {
  const int first = first_held(layer);
  out.resize(std::size_t(next_position_ - first));  // every decode step and layer: no push_back per position
  std::iota(out.begin(), out.end(), first);
}

KvLayerView KvCache::read_layer(int layer) {
  KvLayerView view;
  view.row_dim = row_dim_;
  view.ring = rings_[std::size_t(layer)];
  view.dtype = dtype_;
  if (dtype_ == WeightDtype::F32) {
    view.keys = keys_[std::size_t(layer)].data();
    view.values = values_[std::size_t(layer)].data();
  } else {
    view.keys16 = keys16_[std::size_t(layer)].data();
    view.values16 = values16_[std::size_t(layer)].data();
  }
  return view;
}

void KvCache::truncate(int position) {
  assert(position >= 0 && position <= next_position_ && "can only truncate backwards");
  next_position_ = position;
}

}  // namespace kvscope
