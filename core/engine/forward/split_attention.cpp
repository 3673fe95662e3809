#include "core/engine/forward/split_attention.h"

#include <algorithm>

namespace kvscope {

namespace {
// Keys a run: each of a KV head's query heads reads the run's rows in turn, the first from memory and the
// others mostly from L1 (128 rows of 64 floats are 32 KiB). Runs of 128 beat 64 in six of seven
// alternations of a decode-step timer: each load instruction's stride stream is twice as long. A run's
// weighted sum adds into the outputs as one group, so the length also sets how the sums round.
constexpr std::int64_t kRunKeys = 128;
}  // namespace

void attend_block_kv_heads(const KernelSet& kernels, const KvHeadBlock* heads, int n_kv, int group, int d_head, float scale,
                           float softcap, float* scratch, std::int64_t scratch_stride, int stride) {
  auto scores_of = [&](int g, int a) { return scratch + (std::size_t(g) * std::size_t(group) + std::size_t(a)) * std::size_t(scratch_stride); };
  const std::size_t out_stride = std::size_t(stride) * std::size_t(d_head);
  std::int64_t longest = 0;
  for (int g = 0; g < n_kv; ++g) {
    const KvHeadBlock& h = heads[g];
    longest = std::max(longest, h.count);
    for (int a = 0; a < group; ++a) {
      h.blocks[std::size_t(a) * std::size_t(stride)] = SoftmaxBlock{};
      std::fill(h.outs + std::size_t(a) * out_stride, h.outs + std::size_t(a) * out_stride + std::size_t(d_head), 0.0f);
    }
  }
  // Run by run, every KV head's part of the run: fn(g, its rows from the run's first key, run, keys in it).
  auto each_run = [&](auto&& fn) {
    for (std::int64_t run = 0; run < longest; run += kRunKeys)
      for (int g = 0; g < n_kv; ++g)
        if (const std::int64_t n = std::min(kRunKeys, heads[g].count - run); n > 0) fn(g, heads[g].rows.from(run), run, n);
  };
  each_run([&](int g, const KeyRows& rows, std::int64_t run, std::int64_t n) {
    for (int a = 0; a < group; ++a)
      rows.scores(kernels, heads[g].queries + std::size_t(a) * std::size_t(d_head), n, d_head, scale, scores_of(g, a) + run);
  });
  for (int g = 0; g < n_kv; ++g) {
    const KvHeadBlock& h = heads[g];
    if (h.count <= 0) continue;
    for (int a = 0; a < group; ++a) {
      float* scores = scores_of(g, a);
      if (softcap > 0.0f)
        for (std::int64_t j = 0; j < h.count; ++j) scores[j] = softcap * std::tanh(scores[j] / softcap);
      SoftmaxBlock& block = h.blocks[std::size_t(a) * std::size_t(stride)];
      block.sum = kernels.exp_sum(scores, h.count, &block.max_score);
    }
  }
  each_run([&](int g, const KeyRows& rows, std::int64_t run, std::int64_t n) {
    for (int a = 0; a < group; ++a)
      rows.weighted_sum(kernels, scores_of(g, a) + run, n, d_head, heads[g].outs + std::size_t(a) * out_stride);
  });
}

void attend_block_heads(const KernelSet& kernels, const float* queries, int heads, const KeyRows& rows,
                        std::int64_t count, int d_head, float scale, float softcap, float* scratch,
                        SoftmaxBlock* blocks, float* outs, int stride) {
  const KvHeadBlock block{queries, rows, count, blocks, outs};
  attend_block_kv_heads(kernels, &block, 1, heads, d_head, scale, softcap, scratch, std::max<std::int64_t>(count, 1), stride);
}

SoftmaxBlock attend_block(const KernelSet& kernels, const float* query, const KeyRows& rows, std::int64_t count,
                          int d_head, float scale, float softcap, float* scratch, float* out) {
  SoftmaxBlock block;
  attend_block_heads(kernels, query, 1, rows, count, d_head, scale, softcap, scratch, &block, out, 1);
  return block;
}

void combine_blocks(const SoftmaxBlock* blocks, const float* outs, int n_blocks, int d_head, float* out) {
  float top = -INFINITY;
  for (int b = 0; b < n_blocks; ++b) top = std::max(top, blocks[b].max_score);
  float total = 0.0f;
  std::fill(out, out + d_head, 0.0f);
  for (int b = 0; b < n_blocks; ++b) {
    if (blocks[b].sum == 0.0f) continue;  // an empty block
    const float rescale = std::exp(blocks[b].max_score - top);
    total += rescale * blocks[b].sum;
    for (int c = 0; c < d_head; ++c) out[c] += rescale * outs[std::size_t(b) * std::size_t(d_head) + std::size_t(c)];
  }
  for (int c = 0; c < d_head; ++c) out[c] /= total;
}

}  // namespace kvscope
