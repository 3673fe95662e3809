#include "core/engine/cache/kv_quant.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/engine/kernels/half_float.h"

namespace kvscope {

namespace {
// The next fp16 bit pattern toward -inf / +inf (finite inputs).
std::uint16_t half_down(std::uint16_t h) {
  if (h == 0x0000) return 0x8001;       // +0 -> the smallest negative subnormal
  return (h & 0x8000) ? h + 1 : h - 1;  // negative: larger magnitude; positive: smaller
}
std::uint16_t half_up(std::uint16_t h) {
  if (h == 0x8000) return 0x0001;
  return (h & 0x8000) ? h - 1 : h + 1;
}
}  // namespace

float QuantScale::zero_f() const { return half_to_float(zero); }
float QuantScale::scale_f() const { return half_to_float(scale); }

std::uint16_t half_at_most(float x) {
  std::uint16_t h = float_to_half(x);
  if (half_to_float(h) > x) h = half_down(h);
  return h;
}

std::uint16_t half_at_least(float x) {
  std::uint16_t h = float_to_half(x);
  if (half_to_float(h) < x) h = half_up(h);
  return h;
}

QuantScale choose_scale(float lo, float hi, int bits) {
  assert(lo <= hi && std::isfinite(lo) && std::isfinite(hi) && "a finite, ordered range");
  QuantScale q;
  q.zero = half_at_most(lo);
  const float levels = float((1 << bits) - 1);
  // Rounded up, so z + levels * s still reaches hi after z was rounded down.
  q.scale = half_at_least(std::max(0.0f, (hi - q.zero_f()) / levels));
  while (q.zero_f() + levels * q.scale_f() < hi) q.scale = half_up(q.scale);  // float rounding of the division
  return q;
}

int quantize(float x, QuantScale q, int bits) {
  const float s = q.scale_f();
  if (s == 0.0f) return 0;
  const int code = int(std::lround((x - q.zero_f()) / s));
  return std::min(std::max(code, 0), (1 << bits) - 1);
}

float dequantize(int code, QuantScale q) { return q.zero_f() + float(code) * q.scale_f(); }

}  // namespace kvscope
