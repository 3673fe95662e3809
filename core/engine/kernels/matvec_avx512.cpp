// The kernel set of matvec_kernels.h for AVX-512F, 16 floats a vector. Compiled with -mavx512f
// (core/CMakeLists.txt) and run only on a CPU that has it (isa.cpp). Nothing here instantiates a
// library template outside an anonymous namespace: an inline function compiled with these flags
// could be the copy the linker keeps for the whole program, and then run on an older CPU.
// GCC 12 warns inside its own AVX-512 intrinsics, which read an "undefined" register on purpose
// (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

namespace kvscope {
namespace {
struct Simd {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V load_f32(const float* p) { return _mm512_loadu_ps(p); }
  static void store_f32(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_f16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load_bf16(const std::uint16_t* p) {  // bits << 16: the high half of a float32
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static void sum4(V a, V b, V c, V d, float out[4]) {  // out = the horizontal sums of a, b, c, d
    auto halves = [](V v) {  // 16 lanes to 8: low half + high half (AVX-512F has no float 256-bit extract)
      return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    };
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(halves(a), halves(b)), _mm256_hadd_ps(halves(c), halves(d)));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
  }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static float max_of(V v) { return _mm512_reduce_max_ps(v); }
  static V trunc(V v) { return _mm512_cvtepi32_ps(_mm512_cvttps_epi32(v)); }  // toward zero, whatever MXCSR says
  static V exp2_int(V n) {  // 2^n for whole n in [-126, 127]: n + 127 in the exponent bits
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static float sum(V v) { return _mm512_reduce_add_ps(v); }
};
}  // namespace
}  // namespace kvscope

#include "core/engine/kernels/matvec_loops.h"

namespace kvscope {
const KernelSet kAvx512Kernels = kernel_set("avx512");
}  // namespace kvscope
