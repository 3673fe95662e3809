// Decode attention split over blocks of keys (core/engine/forward/split_attention.h) against a softmax
// written here in double precision, on odd lengths, every block count and every kernel set this CPU
// runs, over float32 rows and over F16 and BF16 rows read as a 16-bit cache stores them; a block of
// several KV heads at once (GQA groups, the heads side by side in a cache row, one head with fewer
// keys); and a rotary model's cached decode (which splits past 512 keys) against recomputing all 1,500+
// positions without a cache.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/forward/split_attention.h"
#include "core/engine/kernels/error.h"
#include "core/engine/kernels/half_float.h"
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

TEST_CASE("split-softmax attention equals one softmax over all keys: odd lengths, any block count, every ISA, "
          "F32 and 16-bit rows",
          "[attention]") {
  const int d_head = 24;  // not a multiple of 16: the kernels' tails run too
  const float scale = 1.0f / std::sqrt(float(d_head));
  SplitMix64 rng(7);
  for (WeightDtype dtype : {WeightDtype::F32, WeightDtype::F16, WeightDtype::BF16})
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
      // 16-bit rows: their bits as the cache stores them; the reference reads the same values widened here.
      std::vector<std::vector<std::uint16_t>> key_bits(keys.size()), value_bits(values.size());
      if (dtype != WeightDtype::F32)
        for (std::size_t j = 0; j < keys.size(); ++j)
          for (int c = 0; c < d_head; ++c) {
            key_bits[j].push_back(dtype == WeightDtype::F16 ? float_to_half(keys[j][std::size_t(c)])
                                                            : float_to_bfloat16(keys[j][std::size_t(c)]));
            value_bits[j].push_back(dtype == WeightDtype::F16 ? float_to_half(values[j][std::size_t(c)])
                                                              : float_to_bfloat16(values[j][std::size_t(c)]));
            keys[j][std::size_t(c)] = dtype == WeightDtype::F16 ? half_to_float(key_bits[j].back())
                                                                : bfloat16_to_float(key_bits[j].back());
            values[j][std::size_t(c)] = dtype == WeightDtype::F16 ? half_to_float(value_bits[j].back())
                                                                  : bfloat16_to_float(value_bits[j].back());
          }
      std::vector<const float*> key_rows, value_rows;
      std::vector<const std::uint16_t*> key_rows16, value_rows16;
      for (int j = 0; j < count; ++j) {
        key_rows.push_back(keys[std::size_t(j)].data());
        value_rows.push_back(values[std::size_t(j)].data());
        key_rows16.push_back(key_bits[std::size_t(j)].data());
        value_rows16.push_back(value_bits[std::size_t(j)].data());
      }
      KeyRows rows;
      rows.dtype = dtype;
      if (dtype == WeightDtype::F32) {
        rows.keys = key_rows.data();
        rows.values = value_rows.data();
      } else {
        rows.keys16 = key_rows16.data();
        rows.values16 = value_rows16.data();
      }
      const std::vector<double> want = reference_attention(q, keys, values, scale);
      for (const KernelSet* kernels : test::runnable_kernel_sets())
        for (int blocks : {1, 2, 3, 5, 8}) {
          INFO(count << " keys, " << blocks << " blocks, kernels " << kernels->isa << ", rows " << dtype_name(dtype));
          std::vector<SoftmaxBlock> parts(static_cast<std::size_t>(blocks));
          std::vector<float> outs(static_cast<std::size_t>(blocks * d_head), 0.0f);
          std::vector<float> scratch(static_cast<std::size_t>(count)), out(static_cast<std::size_t>(d_head));
          for (int b = 0; b < blocks; ++b) {
            const int begin = count * b / blocks, end = count * (b + 1) / blocks;  // empty when blocks > count
            parts[std::size_t(b)] = attend_block(*kernels, q.data(), rows.from(begin), end - begin, d_head, scale, 0.0f,
                                                 scratch.data(), outs.data() + std::size_t(b * d_head));
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

TEST_CASE("a 16-bit cache (F16, BF16): rows stored rounded, read as stored by the split, blocked and row-by-row "
          "attention alike, close to the F32 cache",
          "[attention][kv-dtype]") {
  // demo-llama's shape with a 2,048 context: a 600-token prompt (blocked attention), then decode steps
  // past 512 keys (split across the threads when there are several).
  ModelConfig config = load_preset("demo-llama").model->config();
  config.context_length = 2048;
  auto model = std::make_shared<const Model>(config, random_weights(config, 5));
  Numerics row_by_row;
  row_by_row.same_order = true;  // neither blocked nor split: attend_row over the same stored rows
  const std::shared_ptr<const Model> ordered = with_numerics(model, row_by_row);
  SplitMix64 rng(4);
  std::vector<int> prompt(600);
  for (int& id : prompt) id = int(rng.next() % std::uint64_t(config.vocab_size));
  const std::vector<int> steps = {7, 11, 13};

  const std::int64_t positions = std::int64_t(prompt.size() + steps.size());
  for (WeightDtype dtype : {WeightDtype::F16, WeightDtype::BF16}) {
    INFO(dtype_name(dtype));
    KvCache exact(config, 0), fast(config, 0, dtype), slow(config, 0, dtype);
    RowVector exact_logits, fast_logits, slow_logits;
    model->forward_cached(prompt, exact, 0, exact_logits, nullptr);
    model->forward_cached(prompt, fast, 0, fast_logits, nullptr);
    ordered->forward_cached(prompt, slow, 0, slow_logits, nullptr);
    // Layer 0's rows are the same float32 values in both caches (the same input, the same kernels): the
    // 16-bit cache holds each rounded to nearest.
    const KvLayerView rounded = fast.read_layer(0);
    int wrong_bits = 0;
    for (int p = 0; p < int(prompt.size()); p += 37)
      for (int c = 0; c < config.kv_dim(); ++c) {
        const float k = exact.key_row(0, p)[c], v = exact.value_row(0, p)[c];
        wrong_bits += rounded.key_row16(p)[c] != (dtype == WeightDtype::F16 ? float_to_half(k) : float_to_bfloat16(k));
        wrong_bits += rounded.value_row16(p)[c] != (dtype == WeightDtype::F16 ? float_to_half(v) : float_to_bfloat16(v));
      }
    CHECK(wrong_bits == 0);
    for (std::size_t i = 0; i <= steps.size(); ++i) {
      INFO("after " << i << " decode steps");
      const float top = std::max(1.0f, slow_logits.cwiseAbs().maxCoeff());
      CHECK((fast_logits - slow_logits).cwiseAbs().maxCoeff() < 1e-3f * top);
      // Rounding K and V to 11 (F16) or 8 (BF16) significant bits moves the logits a little, not the argmax.
      const float drift = (fast_logits - exact_logits).cwiseAbs().maxCoeff() / top;
      CHECK(drift < (dtype == WeightDtype::F16 ? 2e-3f : 2e-2f));
      Eigen::Index fast_best = 0, exact_best = 0;
      fast_logits.maxCoeff(&fast_best);
      exact_logits.maxCoeff(&exact_best);
      CHECK(fast_best == exact_best);
      if (i == steps.size()) break;
      model->forward_cached({steps[i]}, fast, 0, fast_logits, nullptr);
      ordered->forward_cached({steps[i]}, slow, 0, slow_logits, nullptr);
      model->forward_cached({steps[i]}, exact, 0, exact_logits, nullptr);
    }
    // Half the bytes of the F32 cache: 2 bytes per value, K and V rows of every layer and position.
    CHECK(fast.bytes_held() == positions * config.n_layer * 2 * config.kv_dim() * 2);
  }
  CHECK_THROWS_AS(KvCache(load_preset("demo-mla").model->config(), 0, WeightDtype::F16), UsageError);
}

TEST_CASE("split attention over several KV heads at once equals one softmax a query head: GQA groups, heads with "
          "as many keys and with fewer, every ISA, F32 and F16 rows",
          "[attention]") {
  const int d_head = 24, n_kv = 3, group = 3, n_head = n_kv * group;
  const float scale = 1.0f / std::sqrt(float(d_head));
  SplitMix64 rng(11);
  for (WeightDtype dtype : {WeightDtype::F32, WeightDtype::F16})
    for (int count : {1, 7, 257, 1023})
      for (bool fewer : {false, true}) {
        // KV head 1 sees 3 keys fewer when `fewer` (as a policy that keeps rows by head would have it).
        const auto count_of = [&](int g) { return fewer && g == 1 ? std::max(0, count - 3) : count; };
        // The cache: count rows, each holding the three KV heads side by side, in both dtypes.
        std::vector<float> key_cache(std::size_t(count * n_kv * d_head)), value_cache(key_cache.size());
        std::vector<std::uint16_t> key_bits(key_cache.size()), value_bits(key_cache.size());
        for (std::size_t i = 0; i < key_cache.size(); ++i)
          for (auto [cache, bits] : {std::pair{&key_cache, &key_bits}, std::pair{&value_cache, &value_bits}}) {
            const float v = float(rng.uniform() * 2.0 - 1.0);
            (*bits)[i] = dtype == WeightDtype::F16 ? float_to_half(v) : 0;
            (*cache)[i] = dtype == WeightDtype::F16 ? half_to_float((*bits)[i]) : v;
          }
        std::vector<float> queries(std::size_t(n_head * d_head));
        for (float& v : queries) v = float(rng.uniform() * 4.0 - 2.0);
        std::vector<std::vector<const float*>> key_rows(n_kv), value_rows(n_kv);
        std::vector<std::vector<const std::uint16_t*>> key_rows16(n_kv), value_rows16(n_kv);
        std::vector<KeyRows> rows(n_kv);
        for (int g = 0; g < n_kv; ++g) {
          for (int j = 0; j < count_of(g); ++j) {
            const std::size_t at = std::size_t((j * n_kv + g) * d_head);
            key_rows[g].push_back(key_cache.data() + at), value_rows[g].push_back(value_cache.data() + at);
            key_rows16[g].push_back(key_bits.data() + at), value_rows16[g].push_back(value_bits.data() + at);
          }
          rows[g].dtype = dtype;
          rows[g].keys = key_rows[g].data(), rows[g].values = value_rows[g].data();
          rows[g].keys16 = key_rows16[g].data(), rows[g].values16 = value_rows16[g].data();
        }
        // Each query head against its KV head's keys, in double.
        std::vector<std::vector<double>> want;
        for (int h = 0; h < n_head; ++h) {
          const int g = h / group;
          std::vector<std::vector<float>> keys, values;
          for (int j = 0; j < count_of(g); ++j) {
            keys.emplace_back(key_rows[g][std::size_t(j)], key_rows[g][std::size_t(j)] + d_head);
            values.emplace_back(value_rows[g][std::size_t(j)], value_rows[g][std::size_t(j)] + d_head);
          }
          const std::vector<float> q(queries.begin() + h * d_head, queries.begin() + (h + 1) * d_head);
          want.push_back(keys.empty() ? std::vector<double>() : reference_attention(q, keys, values, scale));
        }
        for (const KernelSet* kernels : test::runnable_kernel_sets())
          for (int blocks : {1, 3}) {
            INFO(count << " keys" << (fewer ? " (one head 3 fewer)" : "") << ", " << blocks << " blocks, kernels "
                       << kernels->isa << ", rows " << dtype_name(dtype));
            // As Model::attend_split lays them out: query head h's block b at h * blocks + b.
            std::vector<SoftmaxBlock> parts(std::size_t(n_head * blocks));
            std::vector<float> outs(std::size_t(n_head * blocks * d_head), 0.0f);
            std::vector<float> scratch(std::size_t(n_head * (count + 1)));
            for (int b = 0; b < blocks; ++b) {
              std::vector<KvHeadBlock> heads;
              for (int g = 0; g < n_kv; ++g) {
                const int begin = count_of(g) * b / blocks, end = count_of(g) * (b + 1) / blocks;
                const std::size_t slot = std::size_t(g * group * blocks + b);
                heads.push_back(KvHeadBlock{queries.data() + g * group * d_head, rows[g].from(begin), end - begin,
                                            parts.data() + slot, outs.data() + slot * std::size_t(d_head)});
              }
              attend_block_kv_heads(*kernels, heads.data(), n_kv, group, d_head, scale, 0.0f, scratch.data(), count + 1, blocks);
            }
            for (int h = 0; h < n_head; ++h) {
              if (want[std::size_t(h)].empty()) continue;  // a head with no keys
              std::vector<float> out(static_cast<std::size_t>(d_head));
              combine_blocks(parts.data() + h * blocks, outs.data() + std::size_t(h * blocks * d_head), blocks, d_head, out.data());
              double worst = 0.0;
              for (int c = 0; c < d_head; ++c) worst = std::max(worst, std::abs(double(out[std::size_t(c)]) - want[std::size_t(h)][std::size_t(c)]));
              INFO("query head " << h);
              CHECK(worst < 2e-6);
            }
          }
      }
}
