#pragma once
// The hot loops behind linear() (linear.h), one set per instruction set: matrix-vector and
// matrix-matrix products over weights held as F32, F16 or BF16 (16-bit values widened to float32 in
// registers, exactly), attention's scores and weighted sums, and the multiply-add loop the bench's FLOP probe times. isa.h picks one set
// at start-up. The SIMD sets share their loops (matvec_loops.h); the portable set is plain C++, each
// product summed in order: the reference the others are tested against (they sum in several lanes,
// so they agree within float rounding, not bit for bit).
#include <cstdint>

namespace kvscope {

// y[r] = W[r, :] . x (+ bias[r] when bias is not null) for r in [begin, end); W is row-major with
// `cols` values a row, in the kernel's dtype (float, or 16-bit F16 / BF16 bits).
using MatvecFn = void (*)(const void* w, std::int64_t cols, const float* x, const float* bias, float* y,
                          std::int64_t begin, std::int64_t end);
// The same for n input rows x[i * cols ...]: y[i * y_stride + r] for every i < n and r in
// [begin, end), each weight read from memory once for all n rows (prefill, uncached steps).
using MatmulFn = void (*)(const void* w, std::int64_t cols, const float* x, std::int64_t n, const float* bias,
                          float* y, std::int64_t y_stride, std::int64_t begin, std::int64_t end);

// y[i * y_stride + r] = sum over k < depth of w_t[k * wt_stride + r] x[i * x_stride + k], for i < n and
// r < rows: a product whose float32 weights come column by column (blocked attention: scores Q K^T from
// K^T, then outputs P V from V), so the register tile reads them in place, where a product over rows
// must first pack (transpose) each panel; only a last, partial panel is copied.
using ColumnMatmulFn = void (*)(const float* w_t, std::int64_t wt_stride, std::int64_t rows, std::int64_t depth,
                                const float* x, std::int64_t x_stride, std::int64_t n, float* y, std::int64_t y_stride);

// Attention over one query row and one head (Model::attend_row): out[j] = scale * (q . keys[j]) for
// j < count, each a row of `dim` floats somewhere in the cache; and out += sum_j weights[j] * rows[j].
using ScoresFn = void (*)(const float* q, const float* const* keys, std::int64_t count, std::int64_t dim, float scale,
                          float* out);
using WeightedSumFn = void (*)(const float* weights, const float* const* rows, std::int64_t count, std::int64_t dim,
                               float* out);

// The same two over 16-bit rows (a cache stored in F16 or BF16, read as stored: each value widened in
// registers), and out[0..n) = in[0..n) widened (blocked attention's gather). One set per 16-bit dtype.
struct HalfRowKernels {
  void (*attention_scores)(const float* q, const std::uint16_t* const* keys, std::int64_t count, std::int64_t dim,
                           float scale, float* out);
  void (*weighted_sum)(const float* weights, const std::uint16_t* const* rows, std::int64_t count, std::int64_t dim,
                       float* out);
  void (*widen)(const std::uint16_t* in, std::int64_t n, float* out);
};

// A softmax's numerators: x[j] = e^(x[j] - m) for j < count, with m the largest x (written to *top);
// returns their sum. count >= 1.
using ExpSumFn = float (*)(float* x, std::int64_t count, float* top);

struct KernelSet {
  const char* isa;  // "portable", "sse2", "avx2", "avx512"
  MatvecFn matvec_f32, matvec_f16, matvec_bf16;
  MatmulFn matmul_f32, matmul_f16, matmul_bf16;
  ColumnMatmulFn matmul_columns;
  ScoresFn attention_scores;
  WeightedSumFn weighted_sum;
  HalfRowKernels f16_rows, bf16_rows;
  ExpSumFn exp_sum;
  // Runs `iterations` rounds of independent multiply-adds on registers only; returns how many
  // multiply-adds it did (lanes x accumulators x iterations). The compute ceiling of one core.
  double (*multiply_add_loop)(std::int64_t iterations);
  // The sum of n floats, read at the set's full vector width with independent sums: a loop bound by
  // how fast memory delivers, the bandwidth probe's (examples/cli/bandwidth_probe.cpp).
  float (*read_sum)(const float* data, std::int64_t n);
};

// Constant data (no code runs to build them); a set's functions may run only on a CPU that has its
// instructions (isa.h checks).
extern const KernelSet kPortableKernels;
extern const KernelSet kSse2Kernels;    // x86-64 baseline: every x86-64 CPU runs it
extern const KernelSet kAvx2Kernels;    // AVX2 + FMA + F16C
extern const KernelSet kAvx512Kernels;  // AVX-512F

}  // namespace kvscope
