#include "core/engine/forward/split_attention.h"

#include <algorithm>

namespace kvscope {

SoftmaxBlock attend_block(const KernelSet& kernels, const float* query, const float* const* keys,
                          const float* const* values, std::int64_t count, int d_head, float scale, float softcap,
                          float* scratch, float* out) {
  SoftmaxBlock block;
  if (count <= 0) return block;
  kernels.attention_scores(query, keys, count, d_head, scale, scratch);
  if (softcap > 0.0f)
    for (std::int64_t j = 0; j < count; ++j) scratch[j] = softcap * std::tanh(scratch[j] / softcap);
  block.sum = kernels.exp_sum(scratch, count, &block.max_score);
  kernels.weighted_sum(scratch, values, count, d_head, out);
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
