// The portable kernels of matvec_kernels.h: plain C++, summed in order, the reference for the others.
#include <algorithm>
#include <cmath>

#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/matvec_kernels.h"

namespace kvscope {

namespace {
float widen(float v) { return v; }
float widen_f16(std::uint16_t v) { return half_to_float(v); }
float widen_bf16(std::uint16_t v) { return bfloat16_to_float(v); }

template <class Weight, float (*Widen)(Weight)>
void matvec(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
            std::int64_t end) {
  const Weight* rows = static_cast<const Weight*>(w);
  for (std::int64_t r = begin; r < end; ++r) {
    const Weight* row = rows + r * cols;
    float sum = 0.0f;
    for (std::int64_t c = 0; c < cols; ++c) sum += Widen(row[c]) * x[c];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

template <class Weight, float (*Widen)(Weight)>
void matmul(const void* w, std::int64_t cols, const float* x, std::int64_t n, const float* bias, float* y,
            std::int64_t y_stride, std::int64_t begin, std::int64_t end) {
  for (std::int64_t i = 0; i < n; ++i) matvec<Weight, Widen>(w, cols, x + i * cols, bias, y + i * y_stride, begin, end);
}

void matmul_columns(const float* w_t, std::int64_t wt_stride, std::int64_t rows, std::int64_t depth, const float* x,
                    std::int64_t x_stride, std::int64_t n, float* y, std::int64_t y_stride) {
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t r = 0; r < rows; ++r) {
      float sum = 0.0f;
      for (std::int64_t k = 0; k < depth; ++k) sum += w_t[k * wt_stride + r] * x[i * x_stride + k];
      y[i * y_stride + r] = sum;
    }
}

template <class Row, float (*Widen)(Row)>
void attention_scores(const float* q, const Row* const* keys, std::int64_t count, std::int64_t dim, float scale,
                      float* out) {
  for (std::int64_t j = 0; j < count; ++j) {
    float sum = 0.0f;
    for (std::int64_t c = 0; c < dim; ++c) sum += q[c] * Widen(keys[j][c]);
    out[j] = scale * sum;
  }
}

template <class Row, float (*Widen)(Row)>
void weighted_sum(const float* weights, const Row* const* rows, std::int64_t count, std::int64_t dim, float* out) {
  for (std::int64_t j = 0; j < count; ++j)
    for (std::int64_t c = 0; c < dim; ++c) out[c] += weights[j] * Widen(rows[j][c]);
}

template <float (*Widen)(std::uint16_t)>
void widen_all(const std::uint16_t* in, std::int64_t n, float* out) {
  for (std::int64_t c = 0; c < n; ++c) out[c] = Widen(in[c]);
}

template <float (*Widen)(std::uint16_t)>
constexpr HalfRowKernels half_rows() {
  return {attention_scores<std::uint16_t, Widen>, weighted_sum<std::uint16_t, Widen>, widen_all<Widen>};
}

float exp_sum(float* x, std::int64_t count, float* top) {
  float largest = x[0];
  for (std::int64_t j = 1; j < count; ++j) largest = std::max(largest, x[j]);
  float sum = 0.0f;
  for (std::int64_t j = 0; j < count; ++j) sum += (x[j] = std::exp(x[j] - largest));
  *top = largest;
  return sum;
}

double multiply_add_loop(std::int64_t iterations) {
  // Eight independent chains, so the loop is bound by throughput, not by one chain's latency.
  float acc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (std::int64_t i = 0; i < iterations; ++i)
    for (float& a : acc) a = a * 0.999999f + 1e-6f;
  volatile float sink = acc[0] + acc[7];  // keeps the loop from being optimised away
  (void)sink;
  return 8.0 * double(iterations);
}
float read_sum(const float* data, std::int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // eight independent sums, so loads bound the loop
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += data[i + k];
  for (; i < n; ++i) s[0] += data[i];
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}
}  // namespace

const KernelSet kPortableKernels = {"portable",
                                    matvec<float, widen>,
                                    matvec<std::uint16_t, widen_f16>,
                                    matvec<std::uint16_t, widen_bf16>,
                                    matmul<float, widen>,
                                    matmul<std::uint16_t, widen_f16>,
                                    matmul<std::uint16_t, widen_bf16>,
                                    matmul_columns,
                                    attention_scores<float, widen>,
                                    weighted_sum<float, widen>,
                                    half_rows<widen_f16>(),
                                    half_rows<widen_bf16>(),
                                    exp_sum,
                                    multiply_add_loop,
                                    read_sum};

}  // namespace kvscope
