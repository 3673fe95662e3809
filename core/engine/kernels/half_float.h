#pragma once
// IEEE half (F16) and bfloat16 (BF16) <-> float32, bit-exact, as safetensors stores them.
// Float -> 16-bit rounds to nearest, ties to even; NaN stays NaN, overflow becomes infinity.
#include <cstddef>
#include <cstdint>

namespace kvscope {

float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
std::uint16_t float_to_bfloat16(float value);

// Each of values[0..n) rounded to F16 or BF16 (nearest, ties to even) and widened back: what a
// mixed-precision kernel that accumulates in float32 and writes 16-bit outputs leaves. Bf16 == false: F16.
void round_through_half(float* values, std::size_t n, bool bf16);

}  // namespace kvscope
