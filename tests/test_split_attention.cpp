// Decode attention split over blocks of keys (core/engine/forward/split_attention.h) against a softmax
// written here in double precision, on odd lengths, every block count and every kernel set this CPU
// runs; and a rotary model's cached decode (which splits past 512 keys) against recomputing all 1,500+
// positions without a cache.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/forward/split_attention.h"
#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/random.h"
#include "core/formats/model_source.h"
#include "kernel_sets.h"

using namespace kvscope;

namespace {

// softmax(q.k x scale) V for one query, in double.
std::vector<double> reference_attention(const std::vector<float>& q, const std::vector<std::vector<float>>& keys,
                                        const std::vector<std::vector<float>>& values, double scale) {
  std::vector<double> scores;
  double top = -INFINITY;
  for (const std::vector<float>& k : keys) {
    double dot = 0.0;
    for (std::size_t c = 0; c < q.size(); ++c) dot += double(q[c]) * double(k[c]);
    scores.push_back(dot * scale);
    top = std::max(top, scores.back());
  }
  double total = 0.0;
  for (double& s : scores) total += (s = std::exp(s - top));
  std::vector<double> out(q.size(), 0.0);
  for (std::size_t j = 0; j < keys.size(); ++j)
    for (std::size_t c = 0; c < q.size(); ++c) out[c] += scores[j] / total * double(values[j][c]);
  return out;
}

}  // namespace

TEST_CASE("split-softmax attention equals one softmax over all keys: odd lengths, any block count, every ISA",
          "[attention]") {
  const int d_head = 24;  // not a multiple of 16: the kernels' tails run too
  const float scale = 1.0f / std::sqrt(float(d_head));
  SplitMix64 rng(7);
  for (int count : {1, 7, 63, 257, 1023, 1501}) {
    std::vector<float> q(static_cast<std::size_t>(d_head));
    const std::vector<float> zero_row(static_cast<std::size_t>(d_head), 0.0f);
    std::vector<std::vector<float>> keys(static_cast<std::size_t>(count), zero_row);
    std::vector<std::vector<float>> values = keys;
    for (float& v : q) v = float(rng.uniform() * 4.0 - 2.0);  // scores of a few units: far from uniform
    for (auto& k : keys)
      for (float& v : k) v = float(rng.uniform() * 2.0 - 1.0);
    for (auto& row : values)
      for (float& v : row) v = float(rng.uniform() * 2.0 - 1.0);
    std::vector<const float*> key_rows, value_rows;
    for (int j = 0; j < count; ++j) {
      key_rows.push_back(keys[std::size_t(j)].data());
      value_rows.push_back(values[std::size_t(j)].data());
    }
    const std::vector<double> want = reference_attention(q, keys, values, scale);
    for (const KernelSet* kernels : test::runnable_kernel_sets())
      for (int blocks : {1, 2, 3, 5, 8}) {
        INFO(count << " keys, " << blocks << " blocks, kernels " << kernels->isa);
        std::vector<SoftmaxBlock> parts(static_cast<std::size_t>(blocks));
        std::vector<float> outs(static_cast<std::size_t>(blocks * d_head), 0.0f);
        std::vector<float> scratch(static_cast<std::size_t>(count)), out(static_cast<std::size_t>(d_head));
        for (int b = 0; b < blocks; ++b) {
          const int begin = count * b / blocks, end = count * (b + 1) / blocks;  // empty when blocks > count
          parts[std::size_t(b)] = attend_block(*kernels, q.data(), key_rows.data() + begin, value_rows.data() + begin,
                                               end - begin, d_head, scale, 0.0f, scratch.data(),
                                               outs.data() + std::size_t(b * d_head));
        }
        combine_blocks(parts.data(), outs.data(), blocks, d_head, out.data());
        double worst = 0.0;
        for (int c = 0; c < d_head; ++c) worst = std::max(worst, std::abs(double(out[std::size_t(c)]) - want[std::size_t(c)]));
        CHECK(worst < 2e-6);
      }
  }
}

TEST_CASE("a rotary GQA model decodes past 1,500 positions with the cache exactly as without it", "[attention][slow]") {
  // demo-llama's shape (4 query heads, 2 KV heads, rotary) with its context raised to 2,048 and
  // random weights: cached decode splits each KV head's 1,500+ keys across the threads. Q and K scaled
  // up, so scores reach several units and the blocks' maxima differ: a wrong rescale when blocks
  // combine then changes the logits.
  ModelConfig config = load_preset("demo-llama").model->config();
  config.context_length = 2048;
  ModelWeights weights = random_weights(config, 5);
  for (LayerWeights& l : weights.layers) {
    l.attn_q.f32() *= 40.0f;
    l.attn_k.f32() *= 40.0f;
  }
  const Model model(config, std::move(weights));
  SplitMix64 rng(3);
  std::vector<int> tokens(1500);
  for (int& id : tokens) id = int(rng.next() % std::uint64_t(config.vocab_size));
  KvCache cache(config, 0);
  RowVector cached, uncached;
  model.forward_cached(tokens, cache, 0, cached, nullptr);
  for (int step = 0; step < 3; ++step) {
    model.forward_uncached(tokens, 0, uncached, nullptr);
    INFO("position " << tokens.size() - 1);
    CHECK((cached - uncached).cwiseAbs().maxCoeff() < 1e-4f * std::max(1.0f, uncached.cwiseAbs().maxCoeff()));
    Eigen::Index best = 0;
    cached.maxCoeff(&best);
    tokens.push_back(int(best));
    model.forward_cached({int(best)}, cache, 0, cached, nullptr);
  }
}
