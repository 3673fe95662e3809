#pragma once
// The loops of the kernel sets (matvec_kernels.h), written once over an instruction set's vector
// operations. Each matvec_<isa>.cpp defines `Simd` (its vector type, loads, multiply-add, sum) and
// then includes this file. Everything here sits in an anonymous namespace: each of those files
// compiles its own copy with its own flags, and no copy can stand in for another at link time.
// Include it from those files only, after their Simd.
#include <cmath>  // INFINITY
#include <cstdint>

#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/matvec_kernels.h"

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

// R weight rows against N input rows (R x N <= 8): R x N products in as many accumulators, each weight
// vector loaded (and widened) once for N of them. out[k * N + j] = W row k . x row j. The loops over
// R and N have constant bounds and unroll fully, so the accumulators live in registers.
template <class D, int R, int N>
void dot_tile(const typename D::Weight* const w[R], const float* const x[N], std::int64_t cols, float out[R * N]) {
  static_assert(R * N <= 8, "more accumulators than the registers hold beside their operands");
  V acc[R][N];
  for (int k = 0; k < R; ++k)
    for (int j = 0; j < N; ++j) acc[k][j] = Simd::zero();
  std::int64_t c = 0;
  for (; c + kLanes <= cols; c += kLanes) {
    V weights[R];
    for (int k = 0; k < R; ++k) weights[k] = D::load(w[k] + c);
    for (int j = 0; j < N; ++j) {
      const V input = Simd::load_f32(x[j] + c);
      for (int k = 0; k < R; ++k) acc[k][j] = Simd::fma(weights[k], input, acc[k][j]);
    }
  }
  for (int k = 0; k < R; ++k)
    for (int j = 0; j < N; ++j) {
      float sum = Simd::sum(acc[k][j]);
      for (std::int64_t t = c; t < cols; ++t) sum += D::one(w[k][t]) * x[j][t];
      out[k * N + j] = sum;
    }
}

// Weight rows per tile: a tile (up to 32 x 3072 floats, 384 KiB) stays in L2 while every block of
// four input rows passes over it, so W is read from memory once per call.
constexpr std::int64_t kTileRows = 32;

// One tile of weight rows [r, r_end) against the N input rows xs: pairs of weight rows, then a last
// single row when the count is odd.
template <class D, int N>
void matmul_block(const typename D::Weight* rows, std::int64_t cols, const float* const xs[N], std::int64_t r,
                  std::int64_t r_end, float* y, std::int64_t i, std::int64_t y_stride, const float* bias) {
  auto put = [&](std::int64_t j, std::int64_t row, float sum) { y[(i + j) * y_stride + row] = bias ? sum + bias[row] : sum; };
  for (; r + 2 <= r_end; r += 2) {
    const typename D::Weight* const w[2] = {rows + r * cols, rows + (r + 1) * cols};
    float out[2 * N];
    dot_tile<D, 2, N>(w, xs, cols, out);
    for (int j = 0; j < N; ++j) put(j, r, out[j]), put(j, r + 1, out[N + j]);
  }
  if (r < r_end) {
    const typename D::Weight* const w[1] = {rows + r * cols};
    float out[N];
    dot_tile<D, 1, N>(w, xs, cols, out);
    for (int j = 0; j < N; ++j) put(j, r, out[j]);
  }
}

// Many input rows (prefill, uncached steps): the register tile of GEMM libraries. A panel of kPanel
// weight rows is copied, widened and transposed into `packed` kDepth columns at a time, so one vector
// load gives one column of kPanel rows; each input value is broadcast and multiplied into them. kInputs
// input rows x two vectors of rows are twelve accumulators, in registers for the whole depth, and no
// horizontal sums. The panel (16 KiB with AVX2, 32 KiB with AVX-512) stays in L1 while every block of
// input rows passes over it.
constexpr std::int64_t kPanel = 2 * kLanes;
constexpr std::int64_t kDepth = 256;
constexpr int kInputs = 6;
// Below this many input rows, packing costs more than it saves: the dot-product tiles above run.
constexpr std::int64_t kPackedFromRows = 24;

// packed[k * kPanel + r] = W[r, k0 + k] widened, for the panel's `valid` rows; the rest are zero.
template <class D>
void pack_panel(const typename D::Weight* panel, std::int64_t cols, std::int64_t k0, std::int64_t depth,
                std::int64_t valid, float* packed) {
  // Column by column: the stores run along `packed`, the loads along kPanel rows a line at a time.
  const typename D::Weight* start = panel + k0;
  if (valid == kPanel) {  // a constant trip count, unrolled
    for (std::int64_t k = 0; k < depth; ++k)
      for (std::int64_t r = 0; r < kPanel; ++r) packed[k * kPanel + r] = D::one(start[r * cols + k]);
    return;
  }
  for (std::int64_t k = 0; k < depth; ++k) {
    float* column = packed + k * kPanel;
    for (std::int64_t r = 0; r < valid; ++r) column[r] = D::one(start[r * cols + k]);
    for (std::int64_t r = valid; r < kPanel; ++r) column[r] = 0.0f;
  }
}

// y[j, 0..valid) (+)= packed panel x input rows j < N over `depth` columns. The first pass over a
// panel stores (plus the bias), later passes add to what is there.
// The panel's column k at packed + k * panel_stride (kPanel when packed; a wider matrix's row otherwise).
template <int N>
void panel_product(const float* packed, std::int64_t panel_stride, std::int64_t depth, const float* x,
                   std::int64_t x_stride, float* y, std::int64_t y_stride, std::int64_t valid, bool first,
                   const float* bias) {
  V acc[N][2];
  for (int j = 0; j < N; ++j) acc[j][0] = acc[j][1] = Simd::zero();
  for (std::int64_t k = 0; k < depth; ++k) {
    const V w0 = Simd::load_f32(packed + k * panel_stride), w1 = Simd::load_f32(packed + k * panel_stride + kLanes);
    for (int j = 0; j < N; ++j) {
      const V input = Simd::set1(x[j * x_stride + k]);
      acc[j][0] = Simd::fma(w0, input, acc[j][0]);
      acc[j][1] = Simd::fma(w1, input, acc[j][1]);
    }
  }
  for (int j = 0; j < N; ++j) {
    float* out = y + j * y_stride;
    if (valid == kPanel) {
      const V b0 = first && bias ? Simd::load_f32(bias) : Simd::zero();
      const V b1 = first && bias ? Simd::load_f32(bias + kLanes) : Simd::zero();
      Simd::store_f32(out, Simd::add(first ? b0 : Simd::load_f32(out), acc[j][0]));
      Simd::store_f32(out + kLanes, Simd::add(first ? b1 : Simd::load_f32(out + kLanes), acc[j][1]));
      continue;
    }
    float sums[kPanel];
    Simd::store_f32(sums, acc[j][0]);
    Simd::store_f32(sums + kLanes, acc[j][1]);
    for (std::int64_t r = 0; r < valid; ++r) out[r] = first ? sums[r] + (bias ? bias[r] : 0.0f) : out[r] + sums[r];
  }
}

// One panel against all n input rows, kInputs at a time, then the rest.
void panel_products(const float* panel, std::int64_t panel_stride, std::int64_t depth, const float* xs,
                    std::int64_t x_stride, std::int64_t n, float* ys, std::int64_t y_stride, std::int64_t valid, bool first,
                    const float* bias) {
  std::int64_t i = 0;
  for (; i + kInputs <= n; i += kInputs)
    panel_product<kInputs>(panel, panel_stride, depth, xs + i * x_stride, x_stride, ys + i * y_stride, y_stride, valid, first, bias);
  const float* x = xs + i * x_stride;
  float* y = ys + i * y_stride;
  switch (n - i) {
    case 5: panel_product<5>(panel, panel_stride, depth, x, x_stride, y, y_stride, valid, first, bias); break;
    case 4: panel_product<4>(panel, panel_stride, depth, x, x_stride, y, y_stride, valid, first, bias); break;
    case 3: panel_product<3>(panel, panel_stride, depth, x, x_stride, y, y_stride, valid, first, bias); break;
    case 2: panel_product<2>(panel, panel_stride, depth, x, x_stride, y, y_stride, valid, first, bias); break;
    case 1: panel_product<1>(panel, panel_stride, depth, x, x_stride, y, y_stride, valid, first, bias); break;
    default: break;
  }
}

// W rows sit w_stride values apart and x rows x_stride apart (a slice of a wider matrix), each `cols` long.
template <class D>
void matmul_packed(const typename D::Weight* rows, std::int64_t w_stride, std::int64_t cols, const float* x,
                   std::int64_t x_stride, std::int64_t n, const float* bias, float* y, std::int64_t y_stride,
                   std::int64_t begin, std::int64_t end) {
  alignas(64) float packed[kDepth * kPanel];
  for (std::int64_t r = begin; r < end; r += kPanel) {
    const std::int64_t valid = end - r < kPanel ? end - r : kPanel;
    const float* panel_bias = bias ? bias + r : nullptr;
    for (std::int64_t k0 = 0; k0 < cols; k0 += kDepth) {
      const std::int64_t depth = cols - k0 < kDepth ? cols - k0 : kDepth;
      const bool first = k0 == 0;
      pack_panel<D>(rows + r * w_stride, w_stride, k0, depth, valid, packed);
      const float* xs = x + k0;
      float* ys = y + r;
      panel_products(packed, kPanel, depth, xs, x_stride, n, ys, y_stride, valid, first, panel_bias);
    }
  }
}

// Blocked attention's products (Model::attend_blocked): K^T and V gathered column-major, read in place.
void matmul_columns(const float* w_t, std::int64_t wt_stride, std::int64_t rows, std::int64_t depth, const float* x,
                    std::int64_t x_stride, std::int64_t n, float* y, std::int64_t y_stride) {
  alignas(64) float tail[kDepth * kPanel];
  for (std::int64_t r = 0; r < rows; r += kPanel) {
    const std::int64_t valid = rows - r < kPanel ? rows - r : kPanel;
    for (std::int64_t k0 = 0; k0 < depth; k0 += kDepth) {
      const std::int64_t d = depth - k0 < kDepth ? depth - k0 : kDepth;
      const float* panel = w_t + k0 * wt_stride + r;
      std::int64_t stride = wt_stride;
      if (valid < kPanel) {  // the last columns, zero-padded to a whole panel: a full one would read past them
        for (std::int64_t k = 0; k < d; ++k)
          for (std::int64_t c = 0; c < kPanel; ++c) tail[k * kPanel + c] = c < valid ? panel[k * wt_stride + c] : 0.0f;
        panel = tail;
        stride = kPanel;
      }
      panel_products(panel, stride, d, x + k0, x_stride, n, y + r, y_stride, valid, k0 == 0, nullptr);
    }
  }
}

template <class D>
void matmul(const void* w, std::int64_t cols, const float* x, std::int64_t n, const float* bias, float* y,
            std::int64_t y_stride, std::int64_t begin, std::int64_t end) {
  const typename D::Weight* rows = static_cast<const typename D::Weight*>(w);
  if (n >= kPackedFromRows) {
    matmul_packed<D>(rows, cols, cols, x, cols, n, bias, y, y_stride, begin, end);
    return;
  }
  for (std::int64_t tile = begin; tile < end; tile += kTileRows) {
    const std::int64_t tile_end = end - tile < kTileRows ? end : tile + kTileRows;
    std::int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float* const xs[4] = {x + i * cols, x + (i + 1) * cols, x + (i + 2) * cols, x + (i + 3) * cols};
      matmul_block<D, 4>(rows, cols, xs, tile, tile_end, y, i, y_stride, bias);
    }
    if (i == n) continue;
    // The last one to three input rows, still two weight rows at a time (no std::min: a library
    // template instantiated here, with these flags, could be the copy the whole program links).
    const std::int64_t last = n - 1;
    const float* const xs[3] = {x + i * cols, x + (i + 1 < last ? i + 1 : last) * cols, x + (i + 2 < last ? i + 2 : last) * cols};
    if (n - i == 3) matmul_block<D, 3>(rows, cols, xs, tile, tile_end, y, i, y_stride, bias);
    if (n - i == 2) matmul_block<D, 2>(rows, cols, xs, tile, tile_end, y, i, y_stride, bias);
    if (n - i == 1) matmul_block<D, 1>(rows, cols, xs, tile, tile_end, y, i, y_stride, bias);
  }
}

// Four keys at a time: two accumulators each (so no multiply-add waits on the one before), and their four
// horizontal sums in one shuffle tree (Simd::sum4) rather than one each; the last keys one by one.
// Keys in any row dtype (a cache of F16 or BF16 rows is read as stored, widened in registers).
// Why eight keys a pass and a fixed head size: decode attention waits on memory, and the CPU's prefetcher
// that follows each load instruction's stride runs further ahead the longer that stride is. With the
// head size known (64 or 128) the loop over a row unrolls, so each load instruction reads one column of
// every eighth key: one fixed stride of eight cache rows (docs/speed.md has the measurements).
template <class D, std::int64_t Fixed>
void attention_scores_of(const float* q, const typename D::Weight* const* keys, std::int64_t count, std::int64_t dim_arg,
                         float scale, float* out) {
  using K = typename D::Weight;
  const std::int64_t dim = Fixed > 0 ? Fixed : dim_arg;
  auto four = [&](std::int64_t j) {
    const K *k0 = keys[j], *k1 = keys[j + 1], *k2 = keys[j + 2], *k3 = keys[j + 3];
    V a0 = Simd::zero(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    std::int64_t c = 0;
    for (; c + 2 * kLanes <= dim; c += 2 * kLanes) {
      const V q0 = Simd::load_f32(q + c), q1 = Simd::load_f32(q + c + kLanes);
      a0 = Simd::fma(D::load(k0 + c), q0, a0), b0 = Simd::fma(D::load(k0 + c + kLanes), q1, b0);
      a1 = Simd::fma(D::load(k1 + c), q0, a1), b1 = Simd::fma(D::load(k1 + c + kLanes), q1, b1);
      a2 = Simd::fma(D::load(k2 + c), q0, a2), b2 = Simd::fma(D::load(k2 + c + kLanes), q1, b2);
      a3 = Simd::fma(D::load(k3 + c), q0, a3), b3 = Simd::fma(D::load(k3 + c + kLanes), q1, b3);
    }
    for (; c + kLanes <= dim; c += kLanes) {
      const V q0 = Simd::load_f32(q + c);
      a0 = Simd::fma(D::load(k0 + c), q0, a0), a1 = Simd::fma(D::load(k1 + c), q0, a1);
      a2 = Simd::fma(D::load(k2 + c), q0, a2), a3 = Simd::fma(D::load(k3 + c), q0, a3);
    }
    float sums[4];
    Simd::sum4(Simd::add(a0, b0), Simd::add(a1, b1), Simd::add(a2, b2), Simd::add(a3, b3), sums);
    for (; c < dim; ++c) sums[0] += D::one(k0[c]) * q[c], sums[1] += D::one(k1[c]) * q[c], sums[2] += D::one(k2[c]) * q[c],
         sums[3] += D::one(k3[c]) * q[c];
    for (int i = 0; i < 4; ++i) out[j + i] = scale * sums[i];
  };
  std::int64_t j = 0;
  for (; j + 8 <= count; j += 8) four(j), four(j + 4);
  for (; j + 4 <= count; j += 4) four(j);
  for (; j < count; ++j) out[j] = scale * dot<D>(keys[j], q, dim);
}

// The common head sizes with their size fixed at compile time; any other through the same loop.
template <class D>
void attention_scores(const float* q, const typename D::Weight* const* keys, std::int64_t count, std::int64_t dim,
                      float scale, float* out) {
  if (dim == 64) return attention_scores_of<D, 64>(q, keys, count, dim, scale, out);
  if (dim == 128) return attention_scores_of<D, 128>(q, keys, count, dim, scale, out);
  attention_scores_of<D, 0>(q, keys, count, dim, scale, out);
}

// out += sum_j weights[j] * rows[j], four vectors of out at a time held in registers across all rows
// (a head of 64 floats is two passes with AVX2, one with AVX-512), in two sets: even rows and odd rows,
// so one row's multiply-adds do not wait on the row before's; the sets add at the end. Eight rows a pass
// (four pairs), so each load instruction steps eight rows, as in attention_scores; the sums keep their
// order (even rows into one set, odd into the other).
template <class D>
void weighted_sum(const float* weights, const typename D::Weight* const* rows, std::int64_t count, std::int64_t dim,
                  float* out) {
  using R = typename D::Weight;
  std::int64_t c = 0;
  for (; c + 4 * kLanes <= dim; c += 4 * kLanes) {
    V a0 = Simd::load_f32(out + c), a1 = Simd::load_f32(out + c + kLanes);
    V a2 = Simd::load_f32(out + c + 2 * kLanes), a3 = Simd::load_f32(out + c + 3 * kLanes);
    V b0 = Simd::zero(), b1 = b0, b2 = b0, b3 = b0;
    std::int64_t j = 0;
    auto two = [&](std::int64_t k) {
      const V w = Simd::set1(weights[k]), x = Simd::set1(weights[k + 1]);
      const R *row = rows[k] + c, *next = rows[k + 1] + c;
      a0 = Simd::fma(w, D::load(row), a0), a1 = Simd::fma(w, D::load(row + kLanes), a1);
      a2 = Simd::fma(w, D::load(row + 2 * kLanes), a2), a3 = Simd::fma(w, D::load(row + 3 * kLanes), a3);
      b0 = Simd::fma(x, D::load(next), b0), b1 = Simd::fma(x, D::load(next + kLanes), b1);
      b2 = Simd::fma(x, D::load(next + 2 * kLanes), b2), b3 = Simd::fma(x, D::load(next + 3 * kLanes), b3);
    };
    for (; j + 8 <= count; j += 8) two(j), two(j + 2), two(j + 4), two(j + 6);
    for (; j + 2 <= count; j += 2) two(j);
    if (j < count) {
      const V w = Simd::set1(weights[j]);
      const R* row = rows[j] + c;
      a0 = Simd::fma(w, D::load(row), a0), a1 = Simd::fma(w, D::load(row + kLanes), a1);
      a2 = Simd::fma(w, D::load(row + 2 * kLanes), a2), a3 = Simd::fma(w, D::load(row + 3 * kLanes), a3);
    }
    Simd::store_f32(out + c, Simd::add(a0, b0)), Simd::store_f32(out + c + kLanes, Simd::add(a1, b1));
    Simd::store_f32(out + c + 2 * kLanes, Simd::add(a2, b2)), Simd::store_f32(out + c + 3 * kLanes, Simd::add(a3, b3));
  }
  for (; c + kLanes <= dim; c += kLanes) {
    V a = Simd::load_f32(out + c);
    for (std::int64_t j = 0; j < count; ++j) a = Simd::fma(Simd::set1(weights[j]), D::load(rows[j] + c), a);
    Simd::store_f32(out + c, a);
  }
  for (; c < dim; ++c)
    for (std::int64_t j = 0; j < count; ++j) out[c] += weights[j] * D::one(rows[j][c]);
}

// out[0..n) = in[0..n) widened to float32, exactly (blocked attention gathers 16-bit cache rows this way).
template <class D>
void widen(const std::uint16_t* in, std::int64_t n, float* out) {
  std::int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) Simd::store_f32(out + c, D::load(in + c));
  for (; c < n; ++c) out[c] = D::one(in[c]);
}

// e^x for x <= 0 (a score less the largest), as Cephes' expf: x = n ln 2 + r with |r| <= ln 2 / 2, e^r by
// a degree-7 polynomial, times 2^n. Within 2 ulp of std::exp; below -86 it gives e^-86 (4e-38), so no
// result is subnormal and none depends on the thread's flush-to-zero or rounding modes (a GL driver may
// set them on the window's thread): n rounds by truncating x log2(e) - 1/2, which is <= 0.
V exp_nonpositive(V x) {
  x = Simd::max(x, Simd::set1(-86.0f));
  const V n = Simd::trunc(Simd::add(Simd::mul(x, Simd::set1(1.44269504088896341f)), Simd::set1(-0.5f)));
  V r = Simd::fma(n, Simd::set1(-0.693359375f), x);  // ln 2 in two parts, the first exact in float
  r = Simd::fma(n, Simd::set1(2.12194440e-4f), r);
  V p = Simd::set1(1.9875691500e-4f);
  p = Simd::fma(p, r, Simd::set1(1.3981999507e-3f));
  p = Simd::fma(p, r, Simd::set1(8.3334519073e-3f));
  p = Simd::fma(p, r, Simd::set1(4.1665795894e-2f));
  p = Simd::fma(p, r, Simd::set1(1.6666665459e-1f));
  p = Simd::fma(p, r, Simd::set1(5.0000001201e-1f));
  p = Simd::fma(p, Simd::mul(r, r), Simd::add(r, Simd::set1(1.0f)));
  return Simd::mul(p, Simd::exp2_int(n));
}

float exp_sum(float* x, std::int64_t count, float* top) {
  V m = Simd::set1(-INFINITY);
  std::int64_t j = 0;
  for (; j + kLanes <= count; j += kLanes) m = Simd::max(m, Simd::load_f32(x + j));
  float largest = Simd::max_of(m);
  for (; j < count; ++j) largest = x[j] > largest ? x[j] : largest;
  const V shift = Simd::set1(-largest);
  V s0 = Simd::zero(), s1 = s0;
  j = 0;
  for (; j + 2 * kLanes <= count; j += 2 * kLanes) {
    const V e0 = exp_nonpositive(Simd::add(Simd::load_f32(x + j), shift));
    const V e1 = exp_nonpositive(Simd::add(Simd::load_f32(x + j + kLanes), shift));
    Simd::store_f32(x + j, e0), Simd::store_f32(x + j + kLanes, e1);
    s0 = Simd::add(s0, e0), s1 = Simd::add(s1, e1);
  }
  float sum = Simd::sum(Simd::add(s0, s1));
  // The last values through one vector too (no libm call: its copy could be this file's), padding unsummed.
  for (; j < count; j += kLanes) {
    float lane[kLanes] = {};
    const std::int64_t valid = count - j < kLanes ? count - j : kLanes;
    for (std::int64_t k = 0; k < valid; ++k) lane[k] = x[j + k];
    Simd::store_f32(lane, exp_nonpositive(Simd::add(Simd::load_f32(lane), shift)));
    for (std::int64_t k = 0; k < valid; ++k) sum += (x[j + k] = lane[k]);
  }
  *top = largest;
  return sum;
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

// Four vectors a step into four sums, so the loads, not one add chain, bound the loop.
float read_sum(const float* data, std::int64_t n) {
  V a0 = Simd::zero(), a1 = a0, a2 = a0, a3 = a0;
  std::int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    a0 = Simd::add(a0, Simd::load_f32(data + i)), a1 = Simd::add(a1, Simd::load_f32(data + i + kLanes));
    a2 = Simd::add(a2, Simd::load_f32(data + i + 2 * kLanes)), a3 = Simd::add(a3, Simd::load_f32(data + i + 3 * kLanes));
  }
  float total = Simd::sum(Simd::add(Simd::add(a0, a1), Simd::add(a2, a3)));
  for (; i < n; ++i) total += data[i];
  return total;
}

constexpr KernelSet kernel_set(const char* isa) {
  return {isa,
          matvec<F32>,
          matvec<F16>,
          matvec<BF16>,
          matmul<F32>,
          matmul<F16>,
          matmul<BF16>,
          matmul_columns,
          attention_scores<F32>,
          weighted_sum<F32>,
          {attention_scores<F16>, weighted_sum<F16>, widen<F16>},
          {attention_scores<BF16>, weighted_sum<BF16>, widen<BF16>},
          exp_sum,
          multiply_add_loop,
          read_sum};
}

}  // namespace
}  // namespace kvscope
