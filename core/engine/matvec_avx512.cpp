// The kernels of matvec_kernels.h for AVX-512F, 16 floats a vector. Compiled with -mavx512f
// (core/CMakeLists.txt) and run only on a CPU that has it (isa.cpp). Nothing here instantiates a
// library template: an inline function compiled with these flags could be the copy the linker keeps
// for the whole program, and then run on an older CPU.
// GCC 12 warns inside its own AVX-512 intrinsics, which read an "undefined" register on purpose
// (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "core/engine/half_float.h"
#include "core/engine/matvec_kernels.h"

namespace kvscope {

namespace {
// Per dtype: load16 widens 16 consecutive weights to float32; one() widens a single (tail) weight.
struct F32 {
  using Weight = float;
  static __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
  static float one(float v) { return v; }
};
struct BF16 {
  using Weight = std::uint16_t;
  static __m512 load16(const std::uint16_t* p) {  // bits << 16: the high half of a float32
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static float one(std::uint16_t v) { return bfloat16_to_float(v); }
};
struct F16 {
  using Weight = std::uint16_t;
  static __m512 load16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float one(std::uint16_t v) { return half_to_float(v); }
};

template <class D>
void matvec(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
            std::int64_t end) {
  const typename D::Weight* rows = static_cast<const typename D::Weight*>(w);
  for (std::int64_t r = begin; r < end; ++r) {
    const typename D::Weight* row = rows + r * cols;
    // Four accumulators: an FMA does not wait for the previous FMA of another.
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    std::int64_t c = 0;
    for (; c + 64 <= cols; c += 64) {
      a0 = _mm512_fmadd_ps(D::load16(row + c), _mm512_loadu_ps(x + c), a0);
      a1 = _mm512_fmadd_ps(D::load16(row + c + 16), _mm512_loadu_ps(x + c + 16), a1);
      a2 = _mm512_fmadd_ps(D::load16(row + c + 32), _mm512_loadu_ps(x + c + 32), a2);
      a3 = _mm512_fmadd_ps(D::load16(row + c + 48), _mm512_loadu_ps(x + c + 48), a3);
    }
    for (; c + 16 <= cols; c += 16) a0 = _mm512_fmadd_ps(D::load16(row + c), _mm512_loadu_ps(x + c), a0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; c < cols; ++c) sum += D::one(row[c]) * x[c];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

double multiply_add_loop(std::int64_t iterations) {
  // Ten chains: two FMA pipes times a four-cycle latency need at least eight in flight.
  const __m512 m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
  // Named registers, not an array: GCC keeps an array of vectors in memory, and the chains would run
  // through stores and loads.
  __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(1.0f), a2 = _mm512_set1_ps(2.0f), a3 = _mm512_set1_ps(3.0f);
  __m512 a4 = _mm512_set1_ps(4.0f), a5 = _mm512_set1_ps(5.0f), a6 = _mm512_set1_ps(6.0f), a7 = _mm512_set1_ps(7.0f);
  __m512 a8 = _mm512_set1_ps(8.0f), a9 = _mm512_set1_ps(9.0f);
  for (std::int64_t n = 0; n < iterations; ++n) {
    a0 = _mm512_fmadd_ps(a0, m, b);
    a1 = _mm512_fmadd_ps(a1, m, b);
    a2 = _mm512_fmadd_ps(a2, m, b);
    a3 = _mm512_fmadd_ps(a3, m, b);
    a4 = _mm512_fmadd_ps(a4, m, b);
    a5 = _mm512_fmadd_ps(a5, m, b);
    a6 = _mm512_fmadd_ps(a6, m, b);
    a7 = _mm512_fmadd_ps(a7, m, b);
    a8 = _mm512_fmadd_ps(a8, m, b);
    a9 = _mm512_fmadd_ps(a9, m, b);
  }
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                 _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  volatile float sink = _mm512_reduce_add_ps(_mm512_add_ps(s, _mm512_add_ps(a8, a9)));  // keeps the loop from being optimised away
  (void)sink;
  return 10.0 * 16 * double(iterations);
}
}  // namespace

const KernelSet kAvx512Kernels = {"avx512", matvec<F32>, matvec<F16>, matvec<BF16>, multiply_add_loop};

}  // namespace kvscope
