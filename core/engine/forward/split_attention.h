#pragma once
// Decode attention split over blocks of key positions, as flash-decoding does. Each block computes its
// own softmax: its largest score m, the sum l of exp(score - m) and the unnormalised output
// o = sum exp(score - m) V. The blocks combine exactly: with M the largest m,
//   out = sum_b exp(m_b - M) o_b / sum_b exp(m_b - M) l_b.
// One query row over a long cache is then shared by every thread, not by only as many threads as
// there are KV heads (three for SmolLM2, for example). Model::attend uses it for decode steps.
#include <cmath>
#include <cstdint>

#include "core/engine/forward/key_rows.h"
#include "core/engine/kernels/matvec_kernels.h"

namespace kvscope {

struct SoftmaxBlock {
  float max_score = -INFINITY;
  float sum = 0.0f;  // sum over the block of exp(score - max_score)
};

// One query head against `count` keys: the scores q.k x scale (soft-capped when softcap > 0), then
// out[0..d_head) += sum_j exp(score_j - max) values[j]. scratch holds count floats.
SoftmaxBlock attend_block(const KernelSet& kernels, const float* query, const KeyRows& rows, std::int64_t count,
                          int d_head, float scale, float softcap, float* scratch, float* out);

// The same for `heads` query heads that share these keys (a KV head's group): query a at queries + a *
// d_head, its block at blocks[a * stride] and its outputs at outs[a * stride * d_head]; scratch holds
// heads x count floats. The keys go by in runs of a few dozen, each run read by every head while it is
// in L1, so a long block is read from memory once, not once per head.
void attend_block_heads(const KernelSet& kernels, const float* queries, int heads, const KeyRows& rows,
                        std::int64_t count, int d_head, float scale, float softcap, float* scratch,
                        SoftmaxBlock* blocks, float* outs, int stride);

// One block of positions for every KV head of a cache row at once: KV head g's `group` query heads at
// heads[g].queries, its keys heads[g].rows (count of them), its query head a's block at
// heads[g].blocks[a * stride] and outputs at heads[g].outs[a * stride * d_head]. scratch holds
// n_kv x group x scratch_stride floats, scratch_stride at least every count. Run by run, every KV head
// reads its part of the run's rows before the next run: a cache row holds the heads side by side, so
// the block streams through memory once, in order. Each head's sums are attend_block_heads' own.
struct KvHeadBlock {
  const float* queries = nullptr;
  KeyRows rows;
  std::int64_t count = 0;
  SoftmaxBlock* blocks = nullptr;
  float* outs = nullptr;
};
void attend_block_kv_heads(const KernelSet& kernels, const KvHeadBlock* heads, int n_kv, int group, int d_head, float scale,
                           float softcap, float* scratch, std::int64_t scratch_stride, int stride);

// The attention output of n_blocks blocks of one query head: outs holds each block's d_head outputs,
// one after another; out gets d_head values.
void combine_blocks(const SoftmaxBlock* blocks, const float* outs, int n_blocks, int d_head, float* out);

}  // namespace kvscope
