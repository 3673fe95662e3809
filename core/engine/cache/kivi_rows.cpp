// KIVI's 4- and 8-bit rows for a policy-managed cache (row_quantizer.h, kv_quant.h):
//   keys    per channel over groups of kKeyGroup positions: one (zero, scale) in fp16 per channel and
//           group. A group is quantized when its last position is written, over the positions its KV
//           head then holds; until then its rows wait in fp16 (KIVI's residual).
//   values  per position over the whole row (KV heads side by side): one (zero, scale) per position.
// read() dequantizes the held rows into a buffer (a GPU kernel would dequantize in registers).
#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/engine/cache/kv_quant.h"
#include "core/engine/cache/row_quantizer.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {
namespace {

constexpr int kKeyGroup = 32;  // KIVI's group: 32 positions share a key channel's scale

class KiviRows final : public QuantizedRows {
 public:
  KiviRows(const RowShape& shape, int bits)
      : shape_(shape), bits_(bits), key_codes_(bits), value_codes_(bits),
        residual_(std::size_t(kKeyGroup) * std::size_t(shape.row_dim)) {}

  void reserve(int positions) override {
    const std::size_t cells = std::size_t(positions) * std::size_t(shape_.row_dim);
    key_codes_.resize(cells);
    value_codes_.resize(cells);
    key_scales_.resize(std::size_t((positions + kKeyGroup - 1) / kKeyGroup) * std::size_t(shape_.row_dim));
    value_scales_.resize(std::size_t(positions));
    read_keys_.conservativeResize(positions, shape_.row_dim);
    read_values_.conservativeResize(positions, shape_.row_dim);
  }

  void write(int position, const float* key, const float* value, const HeldByHead& held) override {
    const std::size_t row = std::size_t(position) * std::size_t(shape_.row_dim);
    const QuantScale vs = choose_scale(*std::min_element(value, value + shape_.row_dim),
                                       *std::max_element(value, value + shape_.row_dim), bits_);
    value_scales_[std::size_t(position)] = vs;
    for (int c = 0; c < shape_.row_dim; ++c) value_codes_.set(row + std::size_t(c), quantize(value[c], vs, bits_));
    const std::size_t slot = std::size_t(position % kKeyGroup) * std::size_t(shape_.row_dim);
    for (int c = 0; c < shape_.row_dim; ++c) residual_[slot + std::size_t(c)] = float_to_half(key[c]);
    if (position % kKeyGroup == kKeyGroup - 1) seal_group(position / kKeyGroup, held);
  }

  KvLayerView read(const HeldByHead& held, int next_position) override {
    for (int g = 0; g < int(held.size()); ++g)
      for (int p : held[std::size_t(g)]) {
        if (p >= next_position) continue;  // written in this call: attention reads it from the call itself
        const std::size_t row = std::size_t(p) * std::size_t(shape_.row_dim);
        for (int c = g * shape_.d_head; c < (g + 1) * shape_.d_head; ++c) {
          read_keys_(p, c) = sealed(p) ? dequantize(key_codes_.get(row + std::size_t(c)), key_scale(p, c))
                                       : half_to_float(residual_[std::size_t(p % kKeyGroup) * std::size_t(shape_.row_dim) + std::size_t(c)]);
          read_values_(p, c) = dequantize(value_codes_.get(row + std::size_t(c)), value_scales_[std::size_t(p)]);
        }
      }
    return KvLayerView{read_keys_.data(), read_values_.data(), shape_.row_dim, 0};
  }

  // Per held row and KV head: V codes, and K codes or the fp16 residual; per key group and KV head
  // still holding a row of it, one (zero, scale) per channel; per row held by any head, V's (zero, scale).
  std::int64_t bits_held(const HeldByHead& held, int next_position) const override {
    const std::int64_t d = shape_.d_head, b = bits_;
    std::int64_t bits = 0;
    std::vector<char> row_held(std::size_t(next_position), 0);
    for (const std::vector<int>& positions : held) {
      int last_group = -1;
      for (int p : positions) {
        if (p >= next_position) continue;
        row_held[std::size_t(p)] = 1;
        bits += d * b + (sealed(p) ? d * b : d * 16);
        if (sealed(p) && p / kKeyGroup != last_group) {
          last_group = p / kKeyGroup;
          bits += d * 32;
        }
      }
    }
    return bits + 32 * std::int64_t(std::count(row_held.begin(), row_held.end(), 1));
  }

  bool describe(int p, int g, StoredRow* out) const override {
    const std::size_t row = std::size_t(p) * std::size_t(shape_.row_dim);
    const int first = g * shape_.d_head, last = first + shape_.d_head;
    StoredRow& s = *out;
    s.bits = bits_;
    s.key_coded = sealed(p);
    s.key_group_first = p / kKeyGroup * kKeyGroup;
    s.key_group_last = s.key_group_first + kKeyGroup - 1;
    const QuantScale vs = value_scales_[std::size_t(p)];
    s.value_zero = vs.zero_f();
    s.value_scale = vs.scale_f();
    for (int c = first; c < last; ++c) {
      const int v = value_codes_.get(row + std::size_t(c));
      s.value_codes.push_back(v);
      s.value_read.push_back(dequantize(v, vs));
      if (s.key_coded) {
        const int k = key_codes_.get(row + std::size_t(c));
        const QuantScale ks = key_scale(p, c);
        s.key_codes.push_back(k);
        s.key_zeros.push_back(ks.zero_f());
        s.key_scales.push_back(ks.scale_f());
        s.key_read.push_back(dequantize(k, ks));
      } else {
        s.key_read.push_back(half_to_float(residual_[std::size_t(p % kKeyGroup) * std::size_t(shape_.row_dim) + std::size_t(c)]));
      }
    }
    return true;
  }

  std::int64_t bytes_allocated() const override {
    return std::int64_t(key_codes_.bytes() + value_codes_.bytes()) + std::int64_t(sizeof(std::uint16_t) * residual_.size()) +
           std::int64_t(sizeof(QuantScale) * (key_scales_.size() + value_scales_.size()));
  }

 private:
  bool sealed(int position) const { return position / kKeyGroup < sealed_groups_; }
  QuantScale key_scale(int position, int channel) const {
    return key_scales_[std::size_t(position / kKeyGroup) * std::size_t(shape_.row_dim) + std::size_t(channel)];
  }

  // Quantizes a full key group from its fp16 residual: per channel, over the positions the channel's KV
  // head holds now (a channel of a head that holds none of them keeps no scale).
  void seal_group(int group, const HeldByHead& held) {
    assert(group == sealed_groups_ && "groups fill in order");
    const int first = group * kKeyGroup;
    const std::size_t row_dim = std::size_t(shape_.row_dim);
    for (int g = 0; g < int(held.size()); ++g) {
      std::vector<int> rows;
      for (int p : held[std::size_t(g)])
        if (p >= first && p < first + kKeyGroup) rows.push_back(p);
      if (rows.empty()) continue;
      for (int c = g * shape_.d_head; c < (g + 1) * shape_.d_head; ++c) {
        float lo = INFINITY, hi = -INFINITY;
        for (int p : rows) {
          const float x = half_to_float(residual_[std::size_t(p % kKeyGroup) * row_dim + std::size_t(c)]);
          lo = std::min(lo, x);
          hi = std::max(hi, x);
        }
        const QuantScale q = choose_scale(lo, hi, bits_);
        key_scales_[std::size_t(group) * row_dim + std::size_t(c)] = q;
        for (int p : rows)
          key_codes_.set(std::size_t(p) * row_dim + std::size_t(c),
                         quantize(half_to_float(residual_[std::size_t(p % kKeyGroup) * row_dim + std::size_t(c)]), q, bits_));
      }
    }
    sealed_groups_ = group + 1;
  }

  RowShape shape_;
  int bits_;
  PackedCodes key_codes_, value_codes_;      // [capacity, row_dim]
  std::vector<QuantScale> key_scales_;       // [groups, row_dim]
  std::vector<QuantScale> value_scales_;     // [capacity]
  std::vector<std::uint16_t> residual_;      // [kKeyGroup, row_dim] fp16 keys of the group being filled
  int sealed_groups_ = 0;                    // key groups 0..sealed_groups_-1 are quantized
  Matrix read_keys_, read_values_;           // [capacity, row_dim] the read buffer
};

class KiviQuantizer final : public RowQuantizer {
 public:
  explicit KiviQuantizer(int bits) : bits_(bits) {}
  int bits() const override { return bits_; }
  std::string spec() const override { return "bits:" + std::to_string(bits_); }
  std::unique_ptr<QuantizedRows> make_rows(const RowShape& shape) const override { return std::make_unique<KiviRows>(shape, bits_); }

 private:
  int bits_;
};

}  // namespace

std::shared_ptr<const RowQuantizer> kivi_quantizer(int bits) { return std::make_shared<KiviQuantizer>(bits); }

}  // namespace kvscope
