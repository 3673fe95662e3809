// The kernel set of matvec_kernels.h for SSE2, 4 floats a vector: the x86-64 baseline, so this file
// needs no extra compiler flags and runs on every x86-64 CPU. SSE2 has no fused multiply-add (a
// multiply, then an add) and no F16C (F16 is widened with integer operations).
#include <emmintrin.h>
#include <xmmintrin.h>  // _MM_TRANSPOSE4_PS

#include <cstdint>

namespace kvscope {
namespace {
struct Simd {
  using V = __m128;
  static constexpr int kLanes = 4;
  static V zero() { return _mm_setzero_ps(); }
  static V set1(float v) { return _mm_set1_ps(v); }
  static V load_f32(const float* p) { return _mm_loadu_ps(p); }
  // Exponent and mantissa moved to float32's place and scaled by 2^112 (the bias difference), which
  // is exact for normal and subnormal halves; exponent 31 (inf, NaN) is then forced to 255.
  static void store_f32(float* p, V v) { _mm_storeu_ps(p, v); }
  static V load_f16(const std::uint16_t* p) {
    const __m128i h = _mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), _mm_setzero_si128());
    const __m128i magnitude = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7fff)), 13);
    const __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
    __m128 f = _mm_mul_ps(_mm_castsi128_ps(magnitude), _mm_castsi128_ps(_mm_set1_epi32(0x77800000)));
    const __m128i special = _mm_cmpgt_epi32(magnitude, _mm_set1_epi32(0x0f7fffff));
    f = _mm_or_ps(f, _mm_castsi128_ps(_mm_and_si128(special, _mm_set1_epi32(0x7f800000))));
    return _mm_or_ps(f, _mm_castsi128_ps(sign));
  }
  static V load_bf16(const std::uint16_t* p) {  // bits << 16: the high half of a float32
    const __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h));
  }
  static V fma(V a, V b, V c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static V mul(V a, V b) { return _mm_mul_ps(a, b); }
  static void sum4(V a, V b, V c, V d, float out[4]) {  // out = the horizontal sums of a, b, c, d
    _MM_TRANSPOSE4_PS(a, b, c, d);
    _mm_storeu_ps(out, _mm_add_ps(_mm_add_ps(a, b), _mm_add_ps(c, d)));
  }
  static V max(V a, V b) { return _mm_max_ps(a, b); }
  static float max_of(V v) {
    const __m128 pairs = _mm_max_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_max_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
  }
  static V trunc(V v) { return _mm_cvtepi32_ps(_mm_cvttps_epi32(v)); }  // toward zero, whatever MXCSR says
  static V exp2_int(V n) {  // 2^n for whole n in [-126, 127]: n + 127 in the exponent bits
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_cvtps_epi32(n), _mm_set1_epi32(127)), 23));
  }
  static float sum(V v) {
    const __m128 pairs = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
  }
};
}  // namespace
}  // namespace kvscope

#include "core/engine/kernels/matvec_loops.h"

namespace kvscope {
const KernelSet kSse2Kernels = kernel_set("sse2");
}  // namespace kvscope
