// The kernels of matvec_kernels.h for SSE2, 4 floats a vector: the x86-64 baseline, so this file
// needs no extra compiler flags and runs on every x86-64 CPU (F16 widened with integer SSE2, as
// F16C is not baseline).
#include <emmintrin.h>

#include "core/engine/half_float.h"
#include "core/engine/matvec_kernels.h"

namespace kvscope {

namespace {
// Per dtype: load4 widens 4 consecutive weights to float32; one() widens a single (tail) weight.
struct F32 {
  using Weight = float;
  static __m128 load4(const float* p) { return _mm_loadu_ps(p); }
  static float one(float v) { return v; }
};
struct BF16 {
  using Weight = std::uint16_t;
  static __m128 load4(const std::uint16_t* p) {  // bits << 16: the high half of a float32
    const __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h));
  }
  static float one(std::uint16_t v) { return bfloat16_to_float(v); }
};
struct F16 {
  using Weight = std::uint16_t;
  // Exponent and mantissa moved to float32's place and scaled by 2^112 (the bias difference), which
  // is exact for normal and subnormal halves; exponent 31 (inf, NaN) is then forced to 255.
  static __m128 load4(const std::uint16_t* p) {
    const __m128i h = _mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), _mm_setzero_si128());
    const __m128i magnitude = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7fff)), 13);
    const __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
    __m128 f = _mm_mul_ps(_mm_castsi128_ps(magnitude), _mm_castsi128_ps(_mm_set1_epi32(0x77800000)));
    const __m128i special = _mm_cmpgt_epi32(magnitude, _mm_set1_epi32(0x0f7fffff));
    f = _mm_or_ps(f, _mm_castsi128_ps(_mm_and_si128(special, _mm_set1_epi32(0x7f800000))));
    return _mm_or_ps(f, _mm_castsi128_ps(sign));
  }
  static float one(std::uint16_t v) { return half_to_float(v); }
};

float horizontal_sum(__m128 v) {
  const __m128 pairs = _mm_add_ps(v, _mm_movehl_ps(v, v));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

template <class D>
void matvec(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
            std::int64_t end) {
  const typename D::Weight* rows = static_cast<const typename D::Weight*>(w);
  for (std::int64_t r = begin; r < end; ++r) {
    const typename D::Weight* row = rows + r * cols;
    // Four accumulators: the adds of one do not wait for the previous add of another.
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    std::int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
      a0 = _mm_add_ps(a0, _mm_mul_ps(D::load4(row + c), _mm_loadu_ps(x + c)));
      a1 = _mm_add_ps(a1, _mm_mul_ps(D::load4(row + c + 4), _mm_loadu_ps(x + c + 4)));
      a2 = _mm_add_ps(a2, _mm_mul_ps(D::load4(row + c + 8), _mm_loadu_ps(x + c + 8)));
      a3 = _mm_add_ps(a3, _mm_mul_ps(D::load4(row + c + 12), _mm_loadu_ps(x + c + 12)));
    }
    for (; c + 4 <= cols; c += 4) a0 = _mm_add_ps(a0, _mm_mul_ps(D::load4(row + c), _mm_loadu_ps(x + c)));
    float sum = horizontal_sum(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
    for (; c < cols; ++c) sum += D::one(row[c]) * x[c];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

double multiply_add_loop(std::int64_t iterations) {
  // No FMA in SSE2: a multiply and an add per step; ten chains cover their latency.
  const __m128 m = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-6f);
  // Named registers, not an array: GCC keeps an array of vectors in memory, and the chains would run
  // through stores and loads.
  __m128 a0 = _mm_set1_ps(0.0f), a1 = _mm_set1_ps(1.0f), a2 = _mm_set1_ps(2.0f), a3 = _mm_set1_ps(3.0f);
  __m128 a4 = _mm_set1_ps(4.0f), a5 = _mm_set1_ps(5.0f), a6 = _mm_set1_ps(6.0f), a7 = _mm_set1_ps(7.0f);
  __m128 a8 = _mm_set1_ps(8.0f), a9 = _mm_set1_ps(9.0f);
  for (std::int64_t n = 0; n < iterations; ++n) {
    a0 = _mm_add_ps(_mm_mul_ps(a0, m), b);
    a1 = _mm_add_ps(_mm_mul_ps(a1, m), b);
    a2 = _mm_add_ps(_mm_mul_ps(a2, m), b);
    a3 = _mm_add_ps(_mm_mul_ps(a3, m), b);
    a4 = _mm_add_ps(_mm_mul_ps(a4, m), b);
    a5 = _mm_add_ps(_mm_mul_ps(a5, m), b);
    a6 = _mm_add_ps(_mm_mul_ps(a6, m), b);
    a7 = _mm_add_ps(_mm_mul_ps(a7, m), b);
    a8 = _mm_add_ps(_mm_mul_ps(a8, m), b);
    a9 = _mm_add_ps(_mm_mul_ps(a9, m), b);
  }
  const __m128 s = _mm_add_ps(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)),
                              _mm_add_ps(_mm_add_ps(a4, a5), _mm_add_ps(a6, a7)));
  volatile float sink = horizontal_sum(_mm_add_ps(s, _mm_add_ps(a8, a9)));  // keeps the loop from being optimised away
  (void)sink;
  return 10.0 * 4 * double(iterations);
}
}  // namespace

const KernelSet kSse2Kernels = {"sse2", matvec<F32>, matvec<F16>, matvec<BF16>, multiply_add_loop};

}  // namespace kvscope
