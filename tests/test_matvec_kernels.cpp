// The kernel sets (core/engine/kernels/matvec_kernels.h) this CPU runs against the portable one, on random
// shapes with odd sizes and tails, one input row and several, in F32, F16 and BF16; their widening of every finite 16-bit value;
// and KVSCOPE_ISA, which picks a set or is refused in one line.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_exec.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/random.h"
#include "core/engine/kernels/weight_matrix.h"
#include "kernel_sets.h"

using namespace kvscope;

namespace {
const Isa kIsas[] = {Isa::Sse2, Isa::Avx2, Isa::Avx512};


MatvecFn matvec_of(const KernelSet& k, WeightDtype dtype) {
  return dtype == WeightDtype::F32 ? k.matvec_f32 : dtype == WeightDtype::F16 ? k.matvec_f16 : k.matvec_bf16;
}
MatmulFn matmul_of(const KernelSet& k, WeightDtype dtype) {
  return dtype == WeightDtype::F32 ? k.matmul_f32 : dtype == WeightDtype::F16 ? k.matmul_f16 : k.matmul_bf16;
}

// W [rows, cols] random in `dtype`, and the same values as float32.
struct RandomWeights {
  std::vector<float> values;
  std::vector<std::uint16_t> bits;
  const void* data(WeightDtype dtype) const {
    return dtype == WeightDtype::F32 ? static_cast<const void*>(values.data()) : bits.data();
  }
};
RandomWeights random_weights_of(WeightDtype dtype, int rows, int cols, SplitMix64& rng) {
  RandomWeights w;
  for (int i = 0; i < rows * cols; ++i) {
    float v = rng.normal();
    if (dtype == WeightDtype::F16) w.bits.push_back(float_to_half(v)), v = half_to_float(w.bits.back());
    if (dtype == WeightDtype::BF16) w.bits.push_back(float_to_bfloat16(v)), v = bfloat16_to_float(w.bits.back());
    w.values.push_back(v);
  }
  return w;
}
}  // namespace

TEST_CASE("matvec kernels: every instruction set this CPU runs agrees with the portable kernel", "[kernels]") {
  const std::vector<const KernelSet*> sets = test::runnable_kernel_sets();
  INFO("kernel sets run here: " << sets.size());
  SplitMix64 rng(3);
  for (WeightDtype dtype : {WeightDtype::F32, WeightDtype::F16, WeightDtype::BF16})
    for (int rows : {1, 3, 17})
      for (int cols : {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 200, 773}) {
        const RandomWeights w = random_weights_of(dtype, rows, cols, rng);
        std::vector<float> x(static_cast<std::size_t>(cols)), bias(static_cast<std::size_t>(rows));
        for (float& v : x) v = rng.normal();
        for (float& v : bias) v = rng.normal();
        const bool with_bias = (rows + cols) % 2 == 1;
        // Rows [begin, end) only; the others keep a sentinel.
        const int begin = rows > 2 ? 1 : 0, end = rows > 2 ? rows - 1 : rows;
        std::vector<float> want(std::size_t(rows), -7.0f);
        matvec_of(kPortableKernels, dtype)(w.data(dtype), cols, x.data(), with_bias ? bias.data() : nullptr,
                                           want.data(), begin, end);
        for (const KernelSet* set : sets) {
          INFO(set->isa << " " << dtype_name(dtype) << " [" << rows << ", " << cols << "]");
          std::vector<float> got(std::size_t(rows), -7.0f);
          matvec_of(*set, dtype)(w.data(dtype), cols, x.data(), with_bias ? bias.data() : nullptr, got.data(),
                                 begin, end);
          for (int r = 0; r < rows; ++r) {
            double magnitude = with_bias ? std::abs(bias[std::size_t(r)]) : 0.0;  // bound of the rounding
            for (int c = 0; c < cols; ++c) magnitude += std::abs(double(w.values[std::size_t(r * cols + c)]) * x[std::size_t(c)]);
            CHECK(std::abs(double(got[std::size_t(r)]) - want[std::size_t(r)]) <= 1e-6 * cols * magnitude + 1e-30);
          }
          if (begin > 0) CHECK(got.front() == -7.0f);  // rows outside [begin, end) untouched
          if (end < rows) CHECK(got.back() == -7.0f);
        }
      }
}

TEST_CASE("matmul kernels: several input rows agree with the portable kernel, across tiles, pairs and tails", "[kernels]") {
  const std::vector<const KernelSet*> sets = test::runnable_kernel_sets();
  SplitMix64 rng(5);
  for (WeightDtype dtype : {WeightDtype::F32, WeightDtype::F16, WeightDtype::BF16})
    for (int n : {2, 3, 4, 5, 6, 7, 9, 13, 24, 29, 53})  // 24 and up: the packed panels
      for (int rows : {1, 2, 3, 33, 70})
        for (int cols : {5, 16, 37, 200, 600}) {  // 600: three passes of 256 columns
          const RandomWeights w = random_weights_of(dtype, rows, cols, rng);
          std::vector<float> x(static_cast<std::size_t>(n * cols)), bias(static_cast<std::size_t>(rows));
          for (float& v : x) v = rng.normal();
          for (float& v : bias) v = rng.normal();
          const bool with_bias = (n + rows) % 2 == 1;
          const int stride = rows + 3;  // columns past the rows, and rows outside [begin, end), keep a sentinel
          const int begin = rows > 2 ? 1 : 0, end = rows > 2 ? rows - 1 : rows;
          std::vector<float> want(std::size_t(n * stride), -7.0f);
          matmul_of(kPortableKernels, dtype)(w.data(dtype), cols, x.data(), n, with_bias ? bias.data() : nullptr,
                                             want.data(), stride, begin, end);
          for (const KernelSet* set : sets) {
            INFO(set->isa << " " << dtype_name(dtype) << " n " << n << " [" << rows << ", " << cols << "]");
            std::vector<float> got(std::size_t(n * stride), -7.0f);
            matmul_of(*set, dtype)(w.data(dtype), cols, x.data(), n, with_bias ? bias.data() : nullptr, got.data(),
                                   stride, begin, end);
            int wrong = 0;
            for (int i = 0; i < n; ++i)
              for (int r = 0; r < stride; ++r) {
                const std::size_t k = std::size_t(i * stride + r);
                if (r < begin || r >= end) {
                  wrong += got[k] != -7.0f || want[k] != -7.0f;
                  continue;
                }
                double magnitude = with_bias ? std::abs(bias[std::size_t(r)]) : 0.0;  // bound of the rounding
                for (int c = 0; c < cols; ++c)
                  magnitude += std::abs(double(w.values[std::size_t(r * cols + c)]) * x[std::size_t(i * cols + c)]);
                wrong += std::abs(double(got[k]) - want[k]) > 1e-6 * cols * magnitude + 1e-30;
              }
            CHECK(wrong == 0);
          }
        }
}

TEST_CASE("matvec kernels: 16-bit weights widen exactly, every finite value in every lane", "[kernels]") {
  constexpr int kCols = 19;  // a vector of 16 and a tail of 3; every value passes through both
  for (WeightDtype dtype : {WeightDtype::F16, WeightDtype::BF16}) {
    std::vector<std::uint16_t> bits;
    for (std::uint32_t b = 0; b < 65536; ++b) {
      const float v = dtype == WeightDtype::F16 ? half_to_float(std::uint16_t(b)) : bfloat16_to_float(std::uint16_t(b));
      bits.push_back(std::isfinite(v) ? std::uint16_t(b) : 0);  // inf x 0 would be NaN
    }
    while (bits.size() % kCols) bits.push_back(0);
    const int rows = int(bits.size()) / kCols;
    for (const KernelSet* set : test::runnable_kernel_sets()) {
      INFO(set->isa << " " << dtype_name(dtype));
      int mismatches = 0;
      for (int c = 0; c < kCols; ++c) {
        std::vector<float> x(kCols, 0.0f), y(static_cast<std::size_t>(rows));
        x[std::size_t(c)] = 1.0f;  // y[r] = W[r, c] exactly
        matvec_of(*set, dtype)(bits.data(), kCols, x.data(), nullptr, y.data(), 0, rows);
        for (int r = 0; r < rows; ++r) {
          const std::uint16_t b = bits[std::size_t(r * kCols + c)];
          const float want = dtype == WeightDtype::F16 ? half_to_float(b) : bfloat16_to_float(b);
          mismatches += y[std::size_t(r)] != want;
        }
      }
      CHECK(mismatches == 0);
      // The 16-bit cache rows' widening: every value, and a length that leaves a tail.
      std::vector<float> widened(bits.size(), -1.0f);
      const HalfRowKernels& half = dtype == WeightDtype::F16 ? set->f16_rows : set->bf16_rows;
      half.widen(bits.data(), std::int64_t(bits.size()) - 5, widened.data());
      int widen_mismatches = 0;
      for (std::size_t i = 0; i + 5 < bits.size(); ++i)
        widen_mismatches += widened[i] != (dtype == WeightDtype::F16 ? half_to_float(bits[i]) : bfloat16_to_float(bits[i]));
      CHECK(widen_mismatches == 0);
      CHECK(widened[bits.size() - 5] == -1.0f);  // nothing written past n
    }
  }
}

TEST_CASE("attention kernels: scores and weighted sums over scattered rows agree with a double-precision loop", "[kernels]") {
  SplitMix64 rng(9);
  for (int dim : {1, 7, 8, 16, 33, 64, 100, 128})
    for (int count : {1, 2, 5, 13, 40, 47}) {
      // count rows of dim floats, each in its own spot of a larger buffer, read in a shuffled order.
      std::vector<float> buffer(std::size_t((count * 2 + 1) * (dim + 3)));
      std::vector<float> q(static_cast<std::size_t>(dim)), weights(static_cast<std::size_t>(count));
      for (float& v : buffer) v = rng.normal();
      for (float& v : q) v = rng.normal();
      for (float& v : weights) v = float(rng.uniform());
      std::vector<const float*> rows;
      for (int j = 0; j < count; ++j) rows.push_back(buffer.data() + std::size_t(((j * 7) % (count * 2 + 1)) * (dim + 3) + 1));
      std::vector<double> want_scores, want_sum(std::size_t(dim), 0.5);
      std::vector<double> score_bound, sum_bound(std::size_t(dim), 0.5);
      for (int j = 0; j < count; ++j) {
        double dot = 0, bound = 0;
        for (int c = 0; c < dim; ++c) dot += double(q[std::size_t(c)]) * rows[std::size_t(j)][c], bound += std::abs(double(q[std::size_t(c)]) * rows[std::size_t(j)][c]);
        want_scores.push_back(0.125 * dot), score_bound.push_back(0.125 * bound);
        for (int c = 0; c < dim; ++c) {
          want_sum[std::size_t(c)] += double(weights[std::size_t(j)]) * rows[std::size_t(j)][c];
          sum_bound[std::size_t(c)] += std::abs(double(weights[std::size_t(j)]) * rows[std::size_t(j)][c]);
        }
      }
      for (const KernelSet* set : test::runnable_kernel_sets()) {
        INFO(set->isa << " dim " << dim << " count " << count);
        std::vector<float> scores(std::size_t(count) + 1, -7.0f), sum(std::size_t(dim) + 1, 0.5f);
        sum.back() = -7.0f;
        set->attention_scores(q.data(), rows.data(), count, dim, 0.125f, scores.data());
        set->weighted_sum(weights.data(), rows.data(), count, dim, sum.data());
        for (int j = 0; j < count; ++j)
          CHECK(std::abs(scores[std::size_t(j)] - want_scores[std::size_t(j)]) <= 1e-6 * dim * score_bound[std::size_t(j)] + 1e-30);
        for (int c = 0; c < dim; ++c)
          CHECK(std::abs(sum[std::size_t(c)] - want_sum[std::size_t(c)]) <= 1e-6 * (count + 1) * sum_bound[std::size_t(c)]);
        CHECK(scores.back() == -7.0f);  // nothing written past count or dim
        CHECK(sum.back() == -7.0f);
      }
    }
}

TEST_CASE("attention kernels over 16-bit rows (an F16 or BF16 cache) agree with a double-precision loop over the "
          "widened values",
          "[kernels]") {
  SplitMix64 rng(13);
  for (WeightDtype dtype : {WeightDtype::F16, WeightDtype::BF16})
    for (int dim : {1, 7, 8, 16, 33, 64, 100, 128})
      for (int count : {1, 2, 5, 13, 40, 47}) {
        std::vector<std::uint16_t> buffer(std::size_t((count * 2 + 1) * (dim + 3)));
        std::vector<float> q(static_cast<std::size_t>(dim)), weights(static_cast<std::size_t>(count));
        for (std::uint16_t& b : buffer) b = dtype == WeightDtype::F16 ? float_to_half(rng.normal()) : float_to_bfloat16(rng.normal());
        for (float& v : q) v = rng.normal();
        for (float& v : weights) v = float(rng.uniform());
        auto value = [&](const std::uint16_t* row, int c) {
          return double(dtype == WeightDtype::F16 ? half_to_float(row[c]) : bfloat16_to_float(row[c]));
        };
        std::vector<const std::uint16_t*> rows;
        for (int j = 0; j < count; ++j)
          rows.push_back(buffer.data() + std::size_t(((j * 7) % (count * 2 + 1)) * (dim + 3) + 1));
        std::vector<double> want_scores, want_sum(std::size_t(dim), 0.5), score_bound, sum_bound(std::size_t(dim), 0.5);
        for (int j = 0; j < count; ++j) {
          double dot = 0, bound = 0;
          for (int c = 0; c < dim; ++c) {
            dot += double(q[std::size_t(c)]) * value(rows[std::size_t(j)], c);
            bound += std::abs(double(q[std::size_t(c)]) * value(rows[std::size_t(j)], c));
            want_sum[std::size_t(c)] += double(weights[std::size_t(j)]) * value(rows[std::size_t(j)], c);
            sum_bound[std::size_t(c)] += std::abs(double(weights[std::size_t(j)]) * value(rows[std::size_t(j)], c));
          }
          want_scores.push_back(0.125 * dot), score_bound.push_back(0.125 * bound);
        }
        for (const KernelSet* set : test::runnable_kernel_sets()) {
          INFO(set->isa << " " << dtype_name(dtype) << " dim " << dim << " count " << count);
          const HalfRowKernels& half = dtype == WeightDtype::F16 ? set->f16_rows : set->bf16_rows;
          std::vector<float> scores(std::size_t(count) + 1, -7.0f), sum(std::size_t(dim) + 1, 0.5f);
          sum.back() = -7.0f;
          half.attention_scores(q.data(), rows.data(), count, dim, 0.125f, scores.data());
          half.weighted_sum(weights.data(), rows.data(), count, dim, sum.data());
          for (int j = 0; j < count; ++j)
            CHECK(std::abs(scores[std::size_t(j)] - want_scores[std::size_t(j)]) <= 1e-6 * dim * score_bound[std::size_t(j)] + 1e-30);
          for (int c = 0; c < dim; ++c)
            CHECK(std::abs(sum[std::size_t(c)] - want_sum[std::size_t(c)]) <= 1e-6 * (count + 1) * sum_bound[std::size_t(c)]);
          CHECK(scores.back() == -7.0f);
          CHECK(sum.back() == -7.0f);
        }
      }
}

TEST_CASE("read_sum (the bandwidth probe's loop) sums every float, tails included, on every instruction set", "[kernels]") {
  SplitMix64 rng(11);
  for (int n : {0, 1, 15, 16, 63, 64, 65, 1000, 4099}) {
    std::vector<float> data(std::size_t(n) + 1);
    for (float& v : data) v = rng.normal();
    data.back() = 1e30f;  // one past n: must not be read
    double want = 0, bound = 0;
    for (int i = 0; i < n; ++i) want += data[std::size_t(i)], bound += std::abs(double(data[std::size_t(i)]));
    for (const KernelSet* set : test::runnable_kernel_sets()) {
      INFO(set->isa << " n " << n);
      CHECK(std::abs(double(set->read_sum(data.data(), n)) - want) <= 1e-6 * (n + 1) * bound + 1e-30);
    }
  }
}

TEST_CASE("isa: KVSCOPE_ISA forces a kernel set, the same tokens come out, and a bad value is one line", "[kernels][cli]") {
  const std::vector<std::string> generate = {"generate", "--preset", "demo-llama", "--ids", "3,1,4,1,5",
                                             "--max-new-tokens", "8", "--json"};
  std::vector<int> first_tokens;
  for (Isa isa : kIsas) {
    INFO("KVSCOPE_ISA=" << isa_name(isa));
    ::setenv("KVSCOPE_ISA", isa_name(isa), 1);
    const test::ExecResult info = test::exec_cli({"info", "--preset", "demo", "--json"});
    const test::ExecResult run = test::exec_cli(generate);
    ::unsetenv("KVSCOPE_ISA");
    if (!isa_supported(isa)) {
      CHECK(info.status == 2);
      CHECK_THAT(info.err, Catch::Contains("this CPU does not support it"));
      continue;
    }
    REQUIRE(info.status == 0);
    CHECK(nlohmann::json::parse(info.out)["isa"] == isa_name(isa));
    REQUIRE(run.status == 0);
    const std::vector<int> tokens = nlohmann::json::parse(run.out)["tokens"].get<std::vector<int>>();
    if (first_tokens.empty()) first_tokens = tokens;
    CHECK(tokens == first_tokens);
  }
  ::setenv("KVSCOPE_ISA", "neon", 1);
  const test::ExecResult bad = test::exec_cli({"info", "--preset", "demo"});
  ::unsetenv("KVSCOPE_ISA");
  CHECK(bad.status == 2);
  CHECK(bad.err == "kvscope-cli: KVSCOPE_ISA must be sse2, avx2 or avx512, got 'neon'\n");
  CHECK(bad.out.empty());
}
