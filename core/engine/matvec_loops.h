#pragma once
// The loops of the kernel sets (matvec_kernels.h), written once over an instruction set's vector
// operations. Each matvec_<isa>.cpp defines `Simd` (its vector type, loads, multiply-add, sum) and
// then includes this file. Everything here sits in an anonymous namespace: each of those files
// compiles its own copy with its own flags, and no copy can stand in for another at link time.
// Include it from those files only, after their Simd.
#include <cstdint>

#include "core/engine/half_float.h"
#include "core/engine/matvec_kernels.h"

namespace kvscope {
namespace {

constexpr std::int64_t kLanes = Simd::kLanes;
using V = Simd::V;

// Weight dtypes: load() widens kLanes consecutive weights to float32, one() a single (tail) weight.
struct F32 {
  using Weight = float;
  static V load(const float* p) { return Simd::load_f32(p); }
  static float one(float v) { return v; }
};
struct F16 {
  using Weight = std::uint16_t;
  static V load(const std::uint16_t* p) { return Simd::load_f16(p); }
  static float one(std::uint16_t v) { return half_to_float(v); }
};
struct BF16 {
  using Weight = std::uint16_t;
  static V load(const std::uint16_t* p) { return Simd::load_bf16(p); }
  static float one(std::uint16_t v) { return bfloat16_to_float(v); }
};

// W row . x over cols values; four accumulators, so one multiply-add does not wait for another.
template <class D>
float dot(const typename D::Weight* row, const float* x, std::int64_t cols) {
  V a0 = Simd::zero(), a1 = a0, a2 = a0, a3 = a0;
  std::int64_t c = 0;
  for (; c + 4 * kLanes <= cols; c += 4 * kLanes) {
    a0 = Simd::fma(D::load(row + c), Simd::load_f32(x + c), a0);
    a1 = Simd::fma(D::load(row + c + kLanes), Simd::load_f32(x + c + kLanes), a1);
    a2 = Simd::fma(D::load(row + c + 2 * kLanes), Simd::load_f32(x + c + 2 * kLanes), a2);
    a3 = Simd::fma(D::load(row + c + 3 * kLanes), Simd::load_f32(x + c + 3 * kLanes), a3);
  }
  for (; c + kLanes <= cols; c += kLanes) a0 = Simd::fma(D::load(row + c), Simd::load_f32(x + c), a0);
  float sum = Simd::sum(Simd::add(Simd::add(a0, a1), Simd::add(a2, a3)));
  for (; c < cols; ++c) sum += D::one(row[c]) * x[c];
  return sum;
}

template <class D>
void matvec(const void* w, std::int64_t cols, const float* x, const float* bias, float* y, std::int64_t begin,
            std::int64_t end) {
  const typename D::Weight* rows = static_cast<const typename D::Weight*>(w);
  for (std::int64_t r = begin; r < end; ++r) {
    const float sum = dot<D>(rows + r * cols, x, cols);
    y[r] = bias ? sum + bias[r] : sum;
  }
}

// Two weight rows against four input rows: eight products in eight accumulators, each weight
// vector loaded (and widened) once for four of them. out[k * 4 + j] = W row k . x row j.
template <class D>
void dot_2x4(const typename D::Weight* w0, const typename D::Weight* w1, const float* const x[4], std::int64_t cols,
             float out[8]) {
  V a0 = Simd::zero(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  std::int64_t c = 0;
  for (; c + kLanes <= cols; c += kLanes) {
    const V u = D::load(w0 + c), v = D::load(w1 + c);
    const V p = Simd::load_f32(x[0] + c), q = Simd::load_f32(x[1] + c);
    const V s = Simd::load_f32(x[2] + c), t = Simd::load_f32(x[3] + c);
    a0 = Simd::fma(u, p, a0), a1 = Simd::fma(u, q, a1), a2 = Simd::fma(u, s, a2), a3 = Simd::fma(u, t, a3);
    b0 = Simd::fma(v, p, b0), b1 = Simd::fma(v, q, b1), b2 = Simd::fma(v, s, b2), b3 = Simd::fma(v, t, b3);
  }
  out[0] = Simd::sum(a0), out[1] = Simd::sum(a1), out[2] = Simd::sum(a2), out[3] = Simd::sum(a3);
  out[4] = Simd::sum(b0), out[5] = Simd::sum(b1), out[6] = Simd::sum(b2), out[7] = Simd::sum(b3);
  for (; c < cols; ++c)
    for (int j = 0; j < 4; ++j) {
      out[j] += D::one(w0[c]) * x[j][c];
      out[4 + j] += D::one(w1[c]) * x[j][c];
    }
}

// Weight rows per tile: a tile (up to 32 x 3072 floats, 384 KiB) stays in L2 while every block of
// four input rows passes over it, so W is read from memory once per call.
constexpr std::int64_t kTileRows = 32;

template <class D>
void matmul(const void* w, std::int64_t cols, const float* x, std::int64_t n, const float* bias, float* y,
            std::int64_t y_stride, std::int64_t begin, std::int64_t end) {
  const typename D::Weight* rows = static_cast<const typename D::Weight*>(w);
  auto put = [&](std::int64_t i, std::int64_t r, float sum) { y[i * y_stride + r] = bias ? sum + bias[r] : sum; };
  for (std::int64_t tile = begin; tile < end; tile += kTileRows) {
    const std::int64_t tile_end = end - tile < kTileRows ? end : tile + kTileRows;
    std::int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float* const xs[4] = {x + i * cols, x + (i + 1) * cols, x + (i + 2) * cols, x + (i + 3) * cols};
      std::int64_t r = tile;
      for (; r + 2 <= tile_end; r += 2) {
        float out[8];
        dot_2x4<D>(rows + r * cols, rows + (r + 1) * cols, xs, cols, out);
        for (int j = 0; j < 4; ++j) put(i + j, r, out[j]), put(i + j, r + 1, out[4 + j]);
      }
      for (; r < tile_end; ++r)
        for (int j = 0; j < 4; ++j) put(i + j, r, dot<D>(rows + r * cols, xs[j], cols));
    }
    for (; i < n; ++i)
      for (std::int64_t r = tile; r < tile_end; ++r) put(i, r, dot<D>(rows + r * cols, x + i * cols, cols));
  }
}

// Ten independent chains (named, not an array: GCC keeps an array of vectors in memory, and the
// chains would then run through stores and loads): two multiply-add pipes times a latency of four
// or five cycles need about that many in flight.
double multiply_add_loop(std::int64_t iterations) {
  const V m = Simd::set1(0.999999f), b = Simd::set1(1e-6f);
  V a0 = Simd::set1(0), a1 = Simd::set1(1), a2 = Simd::set1(2), a3 = Simd::set1(3), a4 = Simd::set1(4);
  V a5 = Simd::set1(5), a6 = Simd::set1(6), a7 = Simd::set1(7), a8 = Simd::set1(8), a9 = Simd::set1(9);
  for (std::int64_t n = 0; n < iterations; ++n) {
    a0 = Simd::fma(a0, m, b), a1 = Simd::fma(a1, m, b), a2 = Simd::fma(a2, m, b), a3 = Simd::fma(a3, m, b);
    a4 = Simd::fma(a4, m, b), a5 = Simd::fma(a5, m, b), a6 = Simd::fma(a6, m, b), a7 = Simd::fma(a7, m, b);
    a8 = Simd::fma(a8, m, b), a9 = Simd::fma(a9, m, b);
  }
  const V s = Simd::add(Simd::add(Simd::add(a0, a1), Simd::add(a2, a3)), Simd::add(Simd::add(a4, a5), Simd::add(a6, a7)));
  volatile float sink = Simd::sum(Simd::add(s, Simd::add(a8, a9)));  // keeps the loop from being optimised away
  (void)sink;
  return 10.0 * kLanes * double(iterations);
}

constexpr KernelSet kernel_set(const char* isa) {
  return {isa, matvec<F32>, matvec<F16>, matvec<BF16>, matmul<F32>, matmul<F16>, matmul<BF16>, multiply_add_loop};
}

}  // namespace
}  // namespace kvscope
