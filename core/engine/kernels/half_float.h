#pragma once
// IEEE half (F16) and bfloat16 (BF16) <-> float32, bit-exact, as safetensors stores them.
// Float -> 16-bit rounds to nearest, ties to even; NaN stays NaN, overflow becomes infinity.
#include <cstdint>

namespace kvscope {

float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
std::uint16_t float_to_bfloat16(float value);

}  // namespace kvscope
