// The portable kernels of matvec_kernels.h: plain C++, summed in order, the reference for the others.
#include "core/engine/half_float.h"
#include "core/engine/matvec_kernels.h"

namespace kvscope {

namespace {
template <class Weight, class Widen>
void matvec(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
            std::int64_t end, Widen widen) {
  const Weight* rows = static_cast<const Weight*>(w);
  for (std::int64_t r = begin; r < end; ++r) {
    const Weight* row = rows + r * cols;
    float sum = 0.0f;
    for (std::int64_t c = 0; c < cols; ++c) sum += widen(row[c]) * x[c];
    y[r] = bias ? sum + bias[r] : sum;
  }
}

void matvec_f32(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
                std::int64_t end) {
  matvec<float>(w, cols, x, bias, y, begin, end, [](float v) { return v; });
}
void matvec_f16(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
                std::int64_t end) {
  matvec<std::uint16_t>(w, cols, x, bias, y, begin, end, half_to_float);
}
void matvec_bf16(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
                 std::int64_t end) {
  matvec<std::uint16_t>(w, cols, x, bias, y, begin, end, bfloat16_to_float);
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
}  // namespace

const KernelSet kPortableKernels = {"portable", matvec_f32, matvec_f16, matvec_bf16, multiply_add_loop};

}  // namespace kvscope
