#include "core/engine/policy_cache.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <iterator>

#include "core/engine/error.h"
#include "core/engine/half_float.h"

namespace kvscope {

PolicyKvCache::PolicyKvCache(const ModelConfig& config, const KvPolicy& policy)
    : policy_(policy), row_dim_(config.kv_dim()), d_head_(config.d_head()), n_kv_head_(config.kv_heads()) {
  if (config.mla()) throw UsageError("cache policies evict or quantize K/V rows; an MLA model caches latent rows instead");
  layers_.resize(std::size_t(config.n_layer));
  for (int i = 0; i < config.n_layer; ++i) layers_[std::size_t(i)].window = config.layer_window(i);
  for (Layer& l : layers_) {
    l.held.resize(std::size_t(n_kv_head_));
    l.sums.resize(std::size_t(n_kv_head_));
    l.key_codes = PackedCodes(policy_.bits);
    l.value_codes = PackedCodes(policy_.bits);
    if (policy_.bits < 16) l.key16.resize(std::size_t(kKeyGroup) * row_dim_);
  }
}

void PolicyKvCache::reserve(int positions) {
  if (positions <= capacity_) return;
  capacity_ = std::max({positions, 2 * capacity_, 16});
  const std::size_t cells = std::size_t(capacity_) * row_dim_;
  const int groups = (capacity_ + kKeyGroup - 1) / kKeyGroup;
  for (Layer& l : layers_) {
    if (policy_.bits == 32) {
      l.key32.resize(cells);
      l.value32.resize(cells);
      continue;
    }
    l.exact_keys.resize(cells);
    l.exact_values.resize(cells);
    l.read_keys.conservativeResize(capacity_, row_dim_);
    l.read_values.conservativeResize(capacity_, row_dim_);
    if (policy_.bits == 16) {
      l.key16.resize(cells);
      l.value16.resize(cells);
      continue;
    }
    l.key_codes.resize(cells);
    l.value_codes.resize(cells);
    l.key_scales.resize(std::size_t(groups) * row_dim_);
    l.value_scales.resize(std::size_t(capacity_));
  }
}

void PolicyKvCache::held_positions(int layer, int kv_head, std::vector<int>& out) const {
  out = layers_[layer].held[kv_head];
}

void PolicyKvCache::write(int layer, int position, const float* key, const float* value) {
  assert(position >= 0 && position >= next_position_ && "positions are written in order, never rewritten");
  reserve(position + 1);
  Layer& l = layers_[layer];
  for (int g = 0; g < n_kv_head_; ++g) {
    l.held[g].push_back(position);
    l.sums[g].resize(std::size_t(position) + 1, 0.0);
  }
  l.read_stale = true;
  const std::size_t row = std::size_t(position) * row_dim_;
  if (policy_.bits == 32) {
    std::memcpy(&l.key32[row], key, sizeof(float) * row_dim_);
    std::memcpy(&l.value32[row], value, sizeof(float) * row_dim_);
    return;
  }
  std::memcpy(&l.exact_keys[row], key, sizeof(float) * row_dim_);
  std::memcpy(&l.exact_values[row], value, sizeof(float) * row_dim_);
  if (policy_.bits == 16) {
    for (int c = 0; c < row_dim_; ++c) {
      l.key16[row + c] = float_to_half(key[c]);
      l.value16[row + c] = float_to_half(value[c]);
    }
    return;
  }
  // Values: one (zero, scale) for the whole row. Keys: fp16 in the residual until the group is full.
  const QuantScale vs = choose_scale(*std::min_element(value, value + row_dim_), *std::max_element(value, value + row_dim_), policy_.bits);
  l.value_scales[std::size_t(position)] = vs;
  for (int c = 0; c < row_dim_; ++c) l.value_codes.set(row + c, quantize(value[c], vs, policy_.bits));
  const std::size_t slot = std::size_t(position % kKeyGroup) * row_dim_;
  for (int c = 0; c < row_dim_; ++c) l.key16[slot + c] = float_to_half(key[c]);
  if (position % kKeyGroup == kKeyGroup - 1) seal_group(l, position / kKeyGroup);
}

// Quantizes a full key group from its fp16 residual rows: per channel, over the positions the channel's
// KV head holds now (a channel of a head that holds none of them keeps no scale).
void PolicyKvCache::seal_group(Layer& l, int group) {
  assert(group == l.sealed_groups && "groups fill in order");
  const int first = group * kKeyGroup;
  for (int g = 0; g < n_kv_head_; ++g) {
    std::vector<int> rows;
    for (int p : l.held[g])
      if (p >= first && p < first + kKeyGroup) rows.push_back(p);
    if (rows.empty()) continue;
    for (int c = g * d_head_; c < (g + 1) * d_head_; ++c) {
      float lo = INFINITY, hi = -INFINITY;
      for (int p : rows) {
        const float x = half_to_float(l.key16[std::size_t(p % kKeyGroup) * row_dim_ + c]);
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
      const QuantScale q = choose_scale(lo, hi, policy_.bits);
      l.key_scales[std::size_t(group) * row_dim_ + c] = q;
      for (int p : rows)
        l.key_codes.set(std::size_t(p) * row_dim_ + c,
                        quantize(half_to_float(l.key16[std::size_t(p % kKeyGroup) * row_dim_ + c]), q, policy_.bits));
    }
  }
  l.sealed_groups = group + 1;
}

// Dequantizes every held row into the read buffer and measures it against the rows as written.
void PolicyKvCache::decode(Layer& l) {
  l.key_error = l.value_error = 0.0f;
  for (int g = 0; g < n_kv_head_; ++g)
    for (int p : l.held[g]) {
      if (p >= next_position_) continue;  // written in this call: attention reads it from the call itself
      const std::size_t row = std::size_t(p) * row_dim_;
      for (int c = g * d_head_; c < (g + 1) * d_head_; ++c) {
        float k = 0.0f, v = 0.0f;
        if (policy_.bits == 16) {
          k = half_to_float(l.key16[row + c]);
          v = half_to_float(l.value16[row + c]);
        } else {
          k = sealed(l, p) ? dequantize(l.key_codes.get(row + c), l.key_scales[std::size_t(p / kKeyGroup) * row_dim_ + c])
                           : half_to_float(l.key16[std::size_t(p % kKeyGroup) * row_dim_ + c]);
          v = dequantize(l.value_codes.get(row + c), l.value_scales[std::size_t(p)]);
        }
        l.read_keys(p, c) = k;
        l.read_values(p, c) = v;
        l.key_error = std::max(l.key_error, std::abs(k - l.exact_keys[row + c]));
        l.value_error = std::max(l.value_error, std::abs(v - l.exact_values[row + c]));
      }
    }
  l.read_stale = false;
}

KvLayerView PolicyKvCache::read_layer(int layer) {
  Layer& l = layers_[layer];
  if (policy_.bits == 32) return KvLayerView{l.key32.data(), l.value32.data(), row_dim_, 0};
  if (l.read_stale) decode(l);
  return KvLayerView{l.read_keys.data(), l.read_values.data(), row_dim_, 0};
}

void PolicyKvCache::add_attention(int layer, const Eigen::MatrixXd& key_attention) {
  Layer& l = layers_[layer];
  for (int g = 0; g < n_kv_head_ && g < key_attention.rows(); ++g)
    for (Eigen::Index k = 0; k < key_attention.cols() && k < Eigen::Index(l.sums[g].size()); ++k)
      l.sums[g][std::size_t(k)] += key_attention(g, k);
}

std::vector<std::vector<std::vector<int>>> PolicyKvCache::evict() {
  std::vector<std::vector<std::vector<int>>> evicted(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    evicted[i].resize(std::size_t(n_kv_head_));
    for (int g = 0; g < n_kv_head_; ++g) {
      std::vector<int> kept = choose_kept(policy_, l.held[g], next_position_, policy_.heavy > 0 ? &l.sums[g] : nullptr);
      if (l.window > 0)  // a local layer's own window: the newest `window` positions at most
        kept.erase(std::remove_if(kept.begin(), kept.end(), [&](int p) { return p < next_position_ - l.window; }), kept.end());
      std::set_difference(l.held[g].begin(), l.held[g].end(), kept.begin(), kept.end(), std::back_inserter(evicted[i][g]));
      l.held[g] = std::move(kept);
    }
    l.read_stale = true;
  }
  return evicted;
}

// Bits held: per held row and KV head its K and V channels (codes, fp16 or float32), per key group and KV
// head still holding a row of it one (zero, scale) per channel, per row held by any head one for V.
std::int64_t PolicyKvCache::bytes_held() const {
  const std::int64_t d = d_head_, b = policy_.bits;
  std::int64_t bits = 0;
  for (const Layer& l : layers_) {
    std::vector<char> row_held(std::size_t(next_position_), 0);
    for (int g = 0; g < n_kv_head_; ++g) {
      int last_group = -1;
      for (int p : l.held[g]) {
        if (p >= next_position_) continue;
        row_held[std::size_t(p)] = 1;
        if (b >= 16) {
          bits += 2 * d * b;
          continue;
        }
        bits += d * b + (sealed(l, p) ? d * b : d * 16);  // V codes; K codes or the fp16 residual
        if (sealed(l, p) && p / kKeyGroup != last_group) {
          last_group = p / kKeyGroup;
          bits += d * 32;  // fp16 zero + scale per channel of this head
        }
      }
    }
    if (b < 16) bits += 32 * std::int64_t(std::count(row_held.begin(), row_held.end(), 1));
  }
  return (bits + 7) / 8;
}

std::int64_t PolicyKvCache::bytes_allocated() const {
  std::int64_t bytes = 0;
  for (const Layer& l : layers_)
    bytes += std::int64_t(sizeof(float)) * std::int64_t(l.key32.size() + l.value32.size()) +
             std::int64_t(sizeof(std::uint16_t)) * std::int64_t(l.key16.size() + l.value16.size()) +
             std::int64_t(l.key_codes.bytes() + l.value_codes.bytes()) +
             std::int64_t(sizeof(QuantScale)) * std::int64_t(l.key_scales.size() + l.value_scales.size());
  return bytes;
}

}  // namespace kvscope
