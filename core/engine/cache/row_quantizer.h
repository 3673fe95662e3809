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

// How one position's K and V rows of one KV head are stored, for the window's quantized-rows view: the
// codes, their (zero, scale) pairs and what a read returns. Keys share a pair per channel over a group
// of positions, values one pair per position; a key still waiting for its group is stored as fp16.
struct StoredRow {
  int bits = 0;                           // per code: 2^bits levels
  bool key_coded = false;                 // false: the key waits in fp16 (KIVI's residual)
  int key_group_first = -1, key_group_last = -1;  // the positions sharing the key channels' pairs
  std::vector<int> key_codes, value_codes;        // d_head each (key_codes empty while in fp16)
  std::vector<float> key_zeros, key_scales;       // per channel of this KV head (empty while in fp16)
  float value_zero = 0.0f, value_scale = 0.0f;    // the position's one pair (over the whole row)
  std::vector<float> key_read, value_read;        // d_head each: what a read returns
  std::vector<float> key_written, value_written;  // d_head each: the rows as written (float32)
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
  // Codes and pairs of a held position for one KV head (the written rows are the cache's to add);
  // false for rows stored as floats.
  virtual bool describe(int /*position*/, int /*kv_head*/, StoredRow* /*out*/) const { return false; }
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
