// Prefill attention in blocks (core/engine/forward/blocked_attention.cpp) and its two kernels: the
// column-major matrix product and the softmax numerators (exp_sum) on every kernel set this CPU runs, against
// double precision written here; then whole models, whose calls with many rows attend in blocks, against
// the same models attending row by row (Numerics::same_order keeps a call on attend_row): GPT-2, GQA with
// rotary positions, latent attention, Gemma 3's local windows and soft-capping, a model-wide window, and
// a prompt fed in chunks so that the blocks read cached keys too; with the attention weights recorded.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/random.h"
#include "core/formats/model_source.h"
#include "kernel_sets.h"

using namespace kvscope;

namespace {

std::vector<float> uniform(SplitMix64& rng, std::size_t n, double low, double high) {
  std::vector<float> v(n);
  for (float& x : v) x = float(low + (high - low) * rng.uniform());
  return v;
}

struct Run {
  RowVector logits;
  std::vector<int> keys_read;  // layer 0, per row of the last call
  Matrix weights;              // layer 0, query head 0: the last call's attention weights by key
  Eigen::MatrixXd received;    // layer 0: attention each key received in the last call, per KV head
};

// The prompt through forward_cached in chunks of `chunk` tokens (a chunk after the first reads cached keys).
Run run(const Model& model, const std::vector<int>& tokens, int window, std::size_t chunk) {
  KvCache cache(model.config(), window);
  Run out;
  ForwardRecord record;
  record.with_rows = false;
  record.with_attention = record.with_key_attention = true;
  for (std::size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const std::vector<int> part(tokens.begin() + std::ptrdiff_t(begin),
                                tokens.begin() + std::ptrdiff_t(std::min(tokens.size(), begin + chunk)));
    model.forward_cached(part, cache, window, out.logits, &record);
  }
  out.keys_read = record.layers[0].row_keys_read;
  out.weights = record.layers[0].attention[0];
  out.received = record.layers[0].key_attention;
  return out;
}

}  // namespace

TEST_CASE("the column-major product equals a double-precision product on every ISA", "[attention][kernels]") {
  SplitMix64 rng(21);
  // Odd sizes: whole and partial panels, register tiles with tails, depths past one depth chunk (256);
  // strides wider than the rows (a slice of a wider matrix, as blocked attention's K^T and V are).
  for (int n : {1, 5, 7, 31, 67})
    for (int rows : {1, 17, 45, 64})
      for (int depth : {3, 24, 64, 301}) {
        const int wt_stride = rows + 5, x_stride = depth + 3, y_stride = rows + 2;
        const std::vector<float> w_t = uniform(rng, std::size_t(depth * wt_stride), -1, 1);
        const std::vector<float> x = uniform(rng, std::size_t(n * x_stride), -1, 1);
        for (const KernelSet* kernels : test::runnable_kernel_sets()) {
          INFO(n << " x " << depth << " against " << rows << " columns, kernels " << kernels->isa);
          std::vector<float> y(std::size_t(n * y_stride), 99.0f);
          kernels->matmul_columns(w_t.data(), wt_stride, rows, depth, x.data(), x_stride, n, y.data(), y_stride);
          double worst = 0.0;
          for (int i = 0; i < n; ++i) {
            CHECK(y[std::size_t(i * y_stride + rows)] == 99.0f);  // past the rows: untouched
            for (int r = 0; r < rows; ++r) {
              double want = 0.0;
              for (int k = 0; k < depth; ++k) want += double(w_t[std::size_t(k * wt_stride + r)]) * x[std::size_t(i * x_stride + k)];
              worst = std::max(worst, std::abs(want - y[std::size_t(i * y_stride + r)]));
            }
          }
          CHECK(worst < 1e-5 * std::sqrt(double(depth)));
        }
      }
}

TEST_CASE("exp_sum gives e^(x - max) and their sum within a few ulp on every ISA", "[attention][kernels]") {
  SplitMix64 rng(4);
  for (int count : {1, 2, 15, 16, 33, 1001})
    for (double spread : {0.5, 20.0, 200.0}) {  // 200: values far below the max underflow
      const std::vector<float> x = uniform(rng, std::size_t(count), -spread, spread / 4);
      double top = -INFINITY;
      for (float v : x) top = std::max(top, double(v));
      for (const KernelSet* kernels : test::runnable_kernel_sets()) {
        INFO(count << " values over " << spread << ", kernels " << kernels->isa);
        std::vector<float> y = x;
        float got_top = 0.0f;
        const float sum = kernels->exp_sum(y.data(), count, &got_top);
        CHECK(double(got_top) == top);
        double want_sum = 0.0, worst = 0.0;
        for (int j = 0; j < count; ++j) {
          // The exponent is the float difference (what the kernel is given); e^ of it in double.
          const double want = std::exp(double(x[std::size_t(j)] - got_top));
          want_sum += want;
          // Relative error down to e^-86 (4.4e-38); below it the kernel may give e^-86 instead of a tiny
          // or subnormal value.
          if (want > 4.5e-38)
            worst = std::max(worst, std::abs(want - y[std::size_t(j)]) / want);
          else
            CHECK(double(y[std::size_t(j)]) * 1e38 < 4.5);
        }
        CHECK(std::abs(double(sum) - want_sum) <= 1e-6 * want_sum);
        CHECK(worst < 4e-7);
      }
    }
}

TEST_CASE("calls of many rows attend in blocks exactly as row by row", "[attention]") {
  struct Case {
    std::string preset;
    int window;
    std::size_t chunk;
  };
  // gemma3-layout: local layers with their own window. demo-mla: K and V rebuilt from latent rows.
  const std::vector<Case> cases = {{"demo", 0, 1000},         {"demo", 0, 23},        {"demo-llama", 0, 1000},
                                   {"demo-llama", 29, 1000},  {"demo-llama", 29, 40}, {"demo-mla", 0, 37},
                                   {"gemma3-layout", 0, 1000}, {"gemma3-layout", 0, 50}};
  for (const Case& c : cases) {
    const LoadedModel loaded = load_preset(c.preset);
    const ModelConfig& config = loaded.model->config();
    // Q and K scaled up where the weights are plain matrices: scores of several units, far from uniform.
    ModelWeights weights = loaded.model->weights();
    for (LayerWeights& l : weights.layers) {
      if (l.attn_q.rows()) l.attn_q.f32() *= 6.0f;
      if (l.attn_k.rows()) l.attn_k.f32() *= 6.0f;
    }
    const Model blocked(config, std::move(weights));
    Model row_by_row = blocked;
    row_by_row.set_numerics({WeightDtype::F32, true});
    SplitMix64 rng(9);
    const int length = std::min(config.context_length, 160);
    std::vector<int> tokens(static_cast<std::size_t>(length));
    for (int& id : tokens) id = int(rng.next() % std::uint64_t(config.vocab_size));
    INFO(c.preset << ", window " << c.window << ", chunks of " << c.chunk << ", " << length << " tokens");
    const Run a = run(blocked, tokens, c.window, c.chunk), b = run(row_by_row, tokens, c.window, c.chunk);
    const float scale = std::max(1.0f, b.logits.cwiseAbs().maxCoeff());
    CHECK((a.logits - b.logits).cwiseAbs().maxCoeff() < 2e-5f * scale);
    CHECK(a.keys_read == b.keys_read);
    // What the heatmaps draw: the weights the rows were computed with, recorded the same either way.
    REQUIRE(a.weights.rows() == b.weights.rows());
    CHECK((a.weights - b.weights).cwiseAbs().maxCoeff() < 1e-5f);
    CHECK((a.received - b.received).cwiseAbs().maxCoeff() < 1e-5 * std::max(1.0, b.received.maxCoeff()));  // sums of rows
  }
}
