#include "core/engine/kernels/half_float.h"

#include <cmath>
#include <cstring>

namespace kvscope {

namespace {
std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// q rounded after dropping its low `shift` bits, ties to even.
std::uint32_t round_shift_even(std::uint32_t q, int shift) {
  const std::uint32_t kept = q >> shift;
  const std::uint32_t rest = q & ((1u << shift) - 1);
  const std::uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1))) ? 1 : 0);
}
}  // namespace

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1f;
  const std::uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24
    const float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return float_of(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));        // rebias 15 -> 127
}

float bfloat16_to_float(std::uint16_t b) { return float_of(std::uint32_t(b) << 16); }

std::uint16_t float_to_half(float value) {
  const std::uint32_t x = bits_of(value);
  const std::uint16_t sign = std::uint16_t((x >> 16) & 0x8000);
  const std::uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude >= 0x7f800000u)  // inf stays inf; NaN keeps its top payload bits and stays quiet
    return sign | 0x7c00 | (magnitude > 0x7f800000u ? 0x200 | ((magnitude >> 13) & 0x3ff) : 0);
  if (magnitude >= 0x477ff000u) return sign | 0x7c00;  // >= 65520 rounds past 65504
  if (magnitude <= 0x33000000u) return sign;           // <= 2^-25 rounds (to even) to zero
  const int exponent = int(magnitude >> 23);
  const std::uint32_t mantissa = magnitude & 0x7fffff;
  if (exponent < 113) {  // below 2^-14: a subnormal half, counted in units of 2^-24
    return sign | std::uint16_t(round_shift_even(mantissa | 0x800000, 126 - exponent));
  }
  // A carry out of the mantissa correctly bumps the exponent.
  const std::uint32_t h = (std::uint32_t(exponent - 112) << 10) | (mantissa >> 13);
  const std::uint32_t rest = mantissa & 0x1fff;
  return sign | std::uint16_t(h + ((rest > 0x1000 || (rest == 0x1000 && (h & 1))) ? 1 : 0));
}

std::uint16_t float_to_bfloat16(float value) {
  const std::uint32_t x = bits_of(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((x >> 16) | 0x40);  // quiet NaN
  return std::uint16_t((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

void round_through_half(float* values, std::size_t n, bool bf16) {
  if (bf16)
    for (std::size_t i = 0; i < n; ++i) values[i] = bfloat16_to_float(float_to_bfloat16(values[i]));
  else
    for (std::size_t i = 0; i < n; ++i) values[i] = half_to_float(float_to_half(values[i]));
}

}  // namespace kvscope
