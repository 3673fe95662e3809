#pragma once
// RowQuantizer: how a policy-managed cache stores K and V rows and reads them back (float32, fp16, or
// KIVI's 4/8-bit codes). It makes one QuantizedRows per layer; the cache tells it which positions each
// KV head still holds, so storage and byte counts follow eviction. The error of what is read back is
// measured by the cache against the rows as written, apart from the quantizer (policy_cache.cpp).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/cache/kv_rows.h"

namespace kvscope {

// Per KV head, ascending: the positions one layer still holds.
using HeldByHead = std::vector<std::vector<int>>;

struct RowShape {
  int row_dim = 0;    // kv_dim: the KV heads' channels side by side
  int d_head = 0;     // channels of one KV head
  int n_kv_head = 0;
};

// One layer's stored rows.
class QuantizedRows {
 public:
  virtual ~QuantizedRows() = default;
  // Positions 0..positions-1 can be written.
  virtual void reserve(int positions) = 0;
  // Stores one position's rows; `held` already lists it for every KV head.
  virtual void write(int position, const float* key, const float* value, const HeldByHead& held) = 0;
  // The held rows below next_position as floats (dequantized into a buffer where needed).
  virtual KvLayerView read(const HeldByHead& held, int next_position) = 0;
  // Bits the held rows below next_position take, scales included.
  virtual std::int64_t bits_held(const HeldByHead& held, int next_position) const = 0;
  virtual std::int64_t bytes_allocated() const = 0;
};

class RowQuantizer {
 public:
  virtual ~RowQuantizer() = default;
  virtual int bits() const = 0;             // bits per stored value (32: float32 rows, as the plain cache)
  virtual std::string spec() const = 0;     // "bits:8"; "" for float32
  virtual std::unique_ptr<QuantizedRows> make_rows(const RowShape& shape) const = 0;
  bool lossy() const { return bits() < 32; }
};

// float32 rows (lossless), fp16 rows, KIVI codes (keys per channel over groups of 32 positions, values
// per position): float_rows.cpp, kivi_rows.cpp.
std::shared_ptr<const RowQuantizer> float32_quantizer();
std::shared_ptr<const RowQuantizer> half_quantizer();
std::shared_ptr<const RowQuantizer> kivi_quantizer(int bits);  // 4 or 8

}  // namespace kvscope
