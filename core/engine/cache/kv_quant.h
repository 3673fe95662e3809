#pragma once
// Uniform asymmetric quantization for KV rows (KIVI): a set of floats shares one zero z and one
// scale s, each stored as fp16; a value x becomes the code round((x - z) / s) in 0..2^bits - 1 and
// reads back as z + code * s. z is rounded down and s up to fp16, so every value of the set lies on
// [z, z + (2^bits - 1) s] and reads back within s/2 of itself (plus float32 rounding).
// Keys share (z, s) per channel over a group of positions, values per position over the whole row.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvscope {

struct QuantScale {
  std::uint16_t zero = 0;   // fp16
  std::uint16_t scale = 0;  // fp16, >= 0
  float zero_f() const;
  float scale_f() const;
};

// (z, s) for values in [lo, hi] (lo <= hi, finite) at 4 or 8 bits.
QuantScale choose_scale(float lo, float hi, int bits);
int quantize(float x, QuantScale q, int bits);  // the code, clamped to 0..2^bits - 1
float dequantize(int code, QuantScale q);

// fp16 at most / at least x (round toward -inf / +inf), finite x within fp16's range.
std::uint16_t half_at_most(float x);
std::uint16_t half_at_least(float x);

// Codes of `bits` (4 or 8) packed into bytes, two 4-bit codes a byte: the bytes a cache holds.
class PackedCodes {
 public:
  explicit PackedCodes(int bits = 8) : bits_(bits) {}
  void resize(std::size_t n_codes) { bytes_.resize((n_codes * std::size_t(bits_) + 7) / 8); }
  int get(std::size_t i) const {
    return bits_ == 8 ? bytes_[i] : (bytes_[i / 2] >> (4 * (i % 2))) & 0xf;
  }
  void set(std::size_t i, int code) {
    if (bits_ == 8) {
      bytes_[i] = std::uint8_t(code);
      return;
    }
    std::uint8_t& b = bytes_[i / 2];
    const int shift = 4 * int(i % 2);
    b = std::uint8_t((b & ~(0xf << shift)) | ((code & 0xf) << shift));
  }
  std::size_t bytes() const { return bytes_.size(); }

 private:
  int bits_;
  std::vector<std::uint8_t> bytes_;
};

}  // namespace kvscope
