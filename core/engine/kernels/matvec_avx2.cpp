// The kernel set of matvec_kernels.h for AVX2 + FMA, 8 floats a vector, F16 widened by F16C.
// Compiled with -mavx2 -mfma -mf16c (core/CMakeLists.txt) and run only on a CPU that has them
// (isa.cpp). Nothing here instantiates a library template outside an anonymous namespace: an inline
// function compiled with these flags could be the copy the linker keeps for the whole program, and
// then run on an older CPU.
#include <immintrin.h>

#include <cstdint>

namespace kvscope {
namespace {
struct Simd {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V load_f32(const float* p) { return _mm256_loadu_ps(p); }
  static void store_f32(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_f16(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V load_bf16(const std::uint16_t* p) {  // bits << 16: the high half of a float32
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static void sum4(V a, V b, V c, V d, float out[4]) {  // out = the horizontal sums of a, b, c, d
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));  // a b c d, low and high halves
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
  }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static float max_of(V v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
  }
  static V trunc(V v) { return _mm256_cvtepi32_ps(_mm256_cvttps_epi32(v)); }  // toward zero, whatever MXCSR says
  static V exp2_int(V n) {  // 2^n for whole n in [-126, 127]: n + 127 in the exponent bits
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static float sum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
};
}  // namespace
}  // namespace kvscope

#include "core/engine/kernels/matvec_loops.h"

namespace kvscope {
const KernelSet kAvx2Kernels = kernel_set("avx2");
}  // namespace kvscope
