// float32 and fp16 rows for a policy-managed cache (row_quantizer.h).
#include <cstring>

#include "core/engine/cache/row_quantizer.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {
namespace {

// [capacity, row_dim] float32 K and V, read in place: the plain cache's rows.
class Float32Rows final : public QuantizedRows {
 public:
  explicit Float32Rows(const RowShape& shape) : shape_(shape) {}
  void reserve(int positions) override {
    keys_.resize(std::size_t(positions) * std::size_t(shape_.row_dim));
    values_.resize(keys_.size());
  }
  void write(int position, const float* key, const float* value, const HeldByHead&) override {
    const std::size_t row = std::size_t(position) * std::size_t(shape_.row_dim);
    std::memcpy(&keys_[row], key, sizeof(float) * std::size_t(shape_.row_dim));
    std::memcpy(&values_[row], value, sizeof(float) * std::size_t(shape_.row_dim));
  }
  KvLayerView read(const HeldByHead&, int) override { return KvLayerView{keys_.data(), values_.data(), shape_.row_dim, 0}; }
  std::int64_t bits_held(const HeldByHead& held, int next_position) const override {
    std::int64_t bits = 0;
    for (const std::vector<int>& positions : held)
      for (int p : positions)
        if (p < next_position) bits += 2 * std::int64_t(shape_.d_head) * 32;
    return bits;
  }
  std::int64_t bytes_allocated() const override { return std::int64_t(sizeof(float) * (keys_.size() + values_.size())); }

 private:
  RowShape shape_;
  std::vector<float> keys_, values_;
};

// [capacity, row_dim] fp16 K and V; read widens the held rows into a float32 buffer.
class HalfRows final : public QuantizedRows {
 public:
  explicit HalfRows(const RowShape& shape) : shape_(shape) {}
  void reserve(int positions) override {
    keys_.resize(std::size_t(positions) * std::size_t(shape_.row_dim));
    values_.resize(keys_.size());
    read_keys_.conservativeResize(positions, shape_.row_dim);
    read_values_.conservativeResize(positions, shape_.row_dim);
  }
  void write(int position, const float* key, const float* value, const HeldByHead&) override {
    const std::size_t row = std::size_t(position) * std::size_t(shape_.row_dim);
    for (int c = 0; c < shape_.row_dim; ++c) {
      keys_[row + std::size_t(c)] = float_to_half(key[c]);
      values_[row + std::size_t(c)] = float_to_half(value[c]);
    }
  }
  KvLayerView read(const HeldByHead& held, int next_position) override {
    for (int g = 0; g < int(held.size()); ++g)
      for (int p : held[std::size_t(g)]) {
        if (p >= next_position) continue;
        const std::size_t row = std::size_t(p) * std::size_t(shape_.row_dim);
        for (int c = g * shape_.d_head; c < (g + 1) * shape_.d_head; ++c) {
          read_keys_(p, c) = half_to_float(keys_[row + std::size_t(c)]);
          read_values_(p, c) = half_to_float(values_[row + std::size_t(c)]);
        }
      }
    return KvLayerView{read_keys_.data(), read_values_.data(), shape_.row_dim, 0};
  }
  std::int64_t bits_held(const HeldByHead& held, int next_position) const override {
    std::int64_t bits = 0;
    for (const std::vector<int>& positions : held)
      for (int p : positions)
        if (p < next_position) bits += 2 * std::int64_t(shape_.d_head) * 16;
    return bits;
  }
  std::int64_t bytes_allocated() const override { return std::int64_t(sizeof(std::uint16_t) * (keys_.size() + values_.size())); }

 private:
  RowShape shape_;
  std::vector<std::uint16_t> keys_, values_;
  Matrix read_keys_, read_values_;
};

template <class Rows, int Bits>
class PlainQuantizer final : public RowQuantizer {
 public:
  int bits() const override { return Bits; }
  std::string spec() const override { return Bits == 32 ? "" : "bits:" + std::to_string(Bits); }
  std::unique_ptr<QuantizedRows> make_rows(const RowShape& shape) const override { return std::make_unique<Rows>(shape); }
};

}  // namespace

std::shared_ptr<const RowQuantizer> float32_quantizer() { return std::make_shared<PlainQuantizer<Float32Rows, 32>>(); }
std::shared_ptr<const RowQuantizer> half_quantizer() { return std::make_shared<PlainQuantizer<HalfRows, 16>>(); }

}  // namespace kvscope
