#include "core/engine/cache/policy_cache.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <iterator>

#include "core/engine/kernels/error.h"
#include "core/engine/model/key_span.h"

namespace kvscope {

PolicyKvCache::PolicyKvCache(const ModelConfig& config, const KvPolicy& policy)
    : policy_(policy), shape_{config.kv_dim(), config.d_head(), config.kv_heads()} {
  if (config.mla()) throw UsageError("cache policies evict or quantize K/V rows; an MLA model caches latent rows instead");
  layers_.resize(std::size_t(config.n_layer));
  for (int i = 0; i < config.n_layer; ++i) {
    Layer& l = layers_[std::size_t(i)];
    l.window = config.layer_window(i);
    l.held.resize(std::size_t(shape_.n_kv_head));
    l.sums.resize(std::size_t(shape_.n_kv_head));
    l.rows = policy_.quantizer->make_rows(shape_);
  }
}

void PolicyKvCache::reserve(int positions) {
  if (positions <= capacity_) return;
  capacity_ = std::max({positions, 2 * capacity_, 16});
  for (Layer& l : layers_) {
    l.rows->reserve(capacity_);
    if (!policy_.quantizer->lossy()) continue;
    l.exact_keys.resize(std::size_t(capacity_) * std::size_t(shape_.row_dim));
    l.exact_values.resize(l.exact_keys.size());
  }
}

void PolicyKvCache::held_positions(int layer, int kv_head, std::vector<int>& out) const {
  out = layers_[std::size_t(layer)].held[std::size_t(kv_head)];
}

void PolicyKvCache::write(int layer, int position, const float* key, const float* value) {
  assert(position >= 0 && position >= next_position_ && "positions are written in order, never rewritten");
  reserve(position + 1);
  Layer& l = layers_[std::size_t(layer)];
  for (int g = 0; g < shape_.n_kv_head; ++g) {
    l.held[std::size_t(g)].push_back(position);
    l.sums[std::size_t(g)].resize(std::size_t(position) + 1, 0.0);
  }
  l.read_stale = true;
  l.rows->write(position, key, value, l.held);
  if (!policy_.quantizer->lossy()) return;
  const std::size_t row = std::size_t(position) * std::size_t(shape_.row_dim);
  std::memcpy(&l.exact_keys[row], key, sizeof(float) * std::size_t(shape_.row_dim));
  std::memcpy(&l.exact_values[row], value, sizeof(float) * std::size_t(shape_.row_dim));
}

bool PolicyKvCache::describe(int layer, int position, int kv_head, StoredRow* out) const {
  if (layer < 0 || layer >= n_layer() || kv_head < 0 || kv_head >= shape_.n_kv_head || position < 0 ||
      position >= next_position_ || !policy_.quantizer->lossy())
    return false;
  const Layer& l = layers_[std::size_t(layer)];
  *out = StoredRow{};
  if (!l.rows->describe(position, kv_head, out)) return false;
  const std::size_t first = std::size_t(position) * std::size_t(shape_.row_dim) + std::size_t(kv_head * shape_.d_head);
  out->key_written.assign(l.exact_keys.begin() + std::ptrdiff_t(first), l.exact_keys.begin() + std::ptrdiff_t(first + std::size_t(shape_.d_head)));
  out->value_written.assign(l.exact_values.begin() + std::ptrdiff_t(first),
                            l.exact_values.begin() + std::ptrdiff_t(first + std::size_t(shape_.d_head)));
  return true;
}

// Largest |read - written| over the held rows below next_position, per KV head's channels.
void PolicyKvCache::measure_error(Layer& l) const {
  l.key_error = l.value_error = 0.0f;
  const std::size_t row_dim = std::size_t(shape_.row_dim);
  for (int g = 0; g < shape_.n_kv_head; ++g)
    for (int p : l.held[std::size_t(g)]) {
      if (p >= next_position_) continue;
      for (int c = g * shape_.d_head; c < (g + 1) * shape_.d_head; ++c) {
        const std::size_t i = std::size_t(p) * row_dim + std::size_t(c);
        l.key_error = std::max(l.key_error, std::abs(l.view.key_row(p)[c] - l.exact_keys[i]));
        l.value_error = std::max(l.value_error, std::abs(l.view.value_row(p)[c] - l.exact_values[i]));
      }
    }
}

KvLayerView PolicyKvCache::read_layer(int layer) {
  Layer& l = layers_[std::size_t(layer)];
  if (!l.read_stale) return l.view;
  l.view = l.rows->read(l.held, next_position_);
  if (policy_.quantizer->lossy()) measure_error(l);
  l.read_stale = false;
  return l.view;
}

void PolicyKvCache::add_attention(int layer, const Eigen::MatrixXd& key_attention) {
  Layer& l = layers_[std::size_t(layer)];
  for (int g = 0; g < shape_.n_kv_head && g < key_attention.rows(); ++g)
    for (Eigen::Index k = 0; k < key_attention.cols() && k < Eigen::Index(l.sums[std::size_t(g)].size()); ++k)
      l.sums[std::size_t(g)][std::size_t(k)] += key_attention(g, k);
}

Eviction PolicyKvCache::evict(const std::vector<std::vector<double>>* newest_attention) {
  static const std::vector<double> none;
  Eviction out;
  out.kept.resize(layers_.size());
  out.evicted.resize(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    const std::vector<double>& newest = newest_attention ? (*newest_attention)[i] : none;
    out.kept[i].resize(std::size_t(shape_.n_kv_head));
    out.evicted[i].resize(std::size_t(shape_.n_kv_head));
    for (std::size_t g = 0; g < std::size_t(shape_.n_kv_head); ++g) {
      KeptRows kept = policy_.rule->keep(EvictionInputs{l.held[g], next_position_, l.window, l.sums[g], newest});
      assert(kept.positions.size() == kept.reasons.size() && "a rule gives one reason per kept position");
      assert(std::is_sorted(kept.positions.begin(), kept.positions.end()) &&
             std::includes(l.held[g].begin(), l.held[g].end(), kept.positions.begin(), kept.positions.end()) &&
             "a rule keeps held positions, ascending");
      const KeySpan own = visible_span(next_position_ - 1, l.window);  // a local layer's own window
      for (std::size_t k = kept.positions.size(); k-- > 0;)
        if (!own.contains(kept.positions[k])) {
          kept.positions.erase(kept.positions.begin() + std::ptrdiff_t(k));
          kept.reasons.erase(kept.reasons.begin() + std::ptrdiff_t(k));
        }
      std::set_difference(l.held[g].begin(), l.held[g].end(), kept.positions.begin(), kept.positions.end(),
                          std::back_inserter(out.evicted[i][g]));
      l.held[g] = kept.positions;
      out.kept[i][g] = std::move(kept);
    }
    l.read_stale = true;
  }
  return out;
}

std::int64_t PolicyKvCache::bytes_held() const {
  std::int64_t bits = 0;
  for (const Layer& l : layers_) bits += l.rows->bits_held(l.held, next_position_);
  return (bits + 7) / 8;
}

std::int64_t PolicyKvCache::bytes_allocated() const {
  std::int64_t bytes = 0;
  for (const Layer& l : layers_) bytes += l.rows->bytes_allocated();
  return bytes;
}

}  // namespace kvscope
