// The kernels of matvec_kernels.h for AVX2 + FMA, 8 floats a vector, F16 widened by F16C.
// Compiled with -mavx2 -mfma -mf16c (core/CMakeLists.txt) and run only on a CPU that has them
// (isa.cpp). Nothing here instantiates a library template: an inline function compiled with these
// flags could be the copy the linker keeps for the whole program, and then run on an older CPU.
#include <immintrin.h>

#include "core/engine/half_float.h"
#include "core/engine/matvec_kernels.h"

namespace kvscope {

namespace {
// Per dtype: load8 widens 8 consecutive weights to float32; one() widens a single (tail) weight.
struct F32 {
  using Weight = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float one(float v) { return v; }
};
struct BF16 {
  using Weight = std::uint16_t;
  static __m256 load8(const std::uint16_t* p) {  // bits << 16: the high half of a float32
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float one(std::uint16_t v) { return bfloat16_to_float(v); }
};
struct F16 {
  using Weight = std::uint16_t;
  static __m256 load8(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float one(std::uint16_t v) { return half_to_float(v); }
};

float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

template <class D>
void matvec(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
            std::int64_t end) {
  const typename D::Weight* rows = static_cast<const typename D::Weight*>(w);
  for (std::int64_t r = begin; r < end; ++r) {
    const typename D::Weight* row = rows + r * cols;
    // Four accumulators: an FMA does not wait for the previous FMA of another.
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    std::int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
      a0 = _mm256_fmadd_ps(D::load8(row + c), _mm256_loadu_ps(x + c), a0);
      a1 = _mm256_fmadd_ps(D::load8(row + c + 8), _mm256_loadu_ps(x + c + 8), a1);
      a2 = _mm256_fmadd_ps(D::load8(row + c + 16), _mm256_loadu_ps(x + c + 16), a2);
      a3 = _mm256_fmadd_ps(D::load8(row + c + 24), _mm256_loadu_ps(x + c + 24), a3);
    }
    for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(D::load8(row + c), _mm256_loadu_ps(x + c), a0);
    float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; c < cols; ++c) sum += D::one(row[c]) * x[c];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

double multiply_add_loop(std::int64_t iterations) {
  // Ten chains: two FMA pipes times a four-cycle latency need at least eight in flight.
  const __m256 m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
  // Named registers, not an array: GCC keeps an array of vectors in memory, and the chains would run
  // through stores and loads.
  __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(1.0f), a2 = _mm256_set1_ps(2.0f), a3 = _mm256_set1_ps(3.0f);
  __m256 a4 = _mm256_set1_ps(4.0f), a5 = _mm256_set1_ps(5.0f), a6 = _mm256_set1_ps(6.0f), a7 = _mm256_set1_ps(7.0f);
  __m256 a8 = _mm256_set1_ps(8.0f), a9 = _mm256_set1_ps(9.0f);
  for (std::int64_t n = 0; n < iterations; ++n) {
    a0 = _mm256_fmadd_ps(a0, m, b);
    a1 = _mm256_fmadd_ps(a1, m, b);
    a2 = _mm256_fmadd_ps(a2, m, b);
    a3 = _mm256_fmadd_ps(a3, m, b);
    a4 = _mm256_fmadd_ps(a4, m, b);
    a5 = _mm256_fmadd_ps(a5, m, b);
    a6 = _mm256_fmadd_ps(a6, m, b);
    a7 = _mm256_fmadd_ps(a7, m, b);
    a8 = _mm256_fmadd_ps(a8, m, b);
    a9 = _mm256_fmadd_ps(a9, m, b);
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                 _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  volatile float sink = horizontal_sum(_mm256_add_ps(s, _mm256_add_ps(a8, a9)));  // keeps the loop from being optimised away
  (void)sink;
  return 10.0 * 8 * double(iterations);
}
}  // namespace

const KernelSet kAvx2Kernels = {"avx2", matvec<F32>, matvec<F16>, matvec<BF16>, multiply_add_loop};

}  // namespace kvscope
