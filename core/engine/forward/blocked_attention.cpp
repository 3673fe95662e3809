// Model::attend_blocked: attention for calls with many new rows (a prefill, an uncached pass).
// Row by row (attend_row), each query row reads every key it sees once per query head, through a dot
// product per key: a long prompt then spends most of its time there, at a fraction of the FMA peak. In
// blocks, as FlashAttention does on a GPU: per KV head its keys' K rows and V columns are gathered once;
// then per block of kQueryBlock query rows, with the KV head's query heads stacked,
//   S = Q_block K_slice^T x scale      one matrix product over the slice of keys the block's rows read
//   P = e^(S - row max)                over each row's own keys (window and causal limits); others get 0
//   out_block = P V_slice / row sum    a second matrix product
// Both products run in the register tile of the packed kernel, reading K^T and V in place (matvec_kernels.h:
// matmul_columns): gathered that way round, each is already column by column, and no panel is packed.
#include <algorithm>
#include <cmath>

#include "core/engine/forward/model.h"
#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/thread_pool.h"
#include "core/engine/model/key_span.h"

namespace kvscope {

namespace {
// Query rows a block: with a KV head's query heads stacked (three for SmolLM2), enough rows for the packed
// kernel's register tile to pay for packing each panel of keys.
constexpr int kQueryBlock = 64;
}  // namespace

void Model::attend_blocked(int layer, ForwardScratch& s, int first_position, const KvLayerView& view, int window,
                           ForwardRecord* record) const {
  LayerRecord* r = record ? &record->layers[std::size_t(layer)] : nullptr;
  const bool keep_weights = r && record->with_attention;
  Eigen::MatrixXd* received = r && record->with_key_attention ? &r->key_attention : nullptr;
  const int n = int(s.q.rows()), n_kv = config_.kv_heads(), d_head = config_.d_head();
  const int group = config_.n_head / n_kv;
  const float scale = config_.score_scale(), cap = config_.attn_softcap;
  // Every key some row of this call reads: from row 0's window start to the newest row.
  const KeySpan all{visible_span(first_position, window).first, first_position + n - 1};
  if (int(s.lanes.size()) < n_kv) s.lanes.resize(std::size_t(n_kv));
  std::size_t longest = 0;
  for (int g = 0; g < n_kv; ++g) {
    gather_keys(s, s.lanes[std::size_t(g)], all, g, first_position, view);
    longest = std::max(longest, s.lanes[std::size_t(g)].keys.size());
  }
  // KV head g's K transposed (a row per key column, `key_stride` apart) at block_keys_t[g * per_head], its
  // V rows [keys, d_head] at block_values[g * per_head]. The stride is padded: at a power of two (8,192
  // keys) every column of a panel would fall in the same L1 set.
  const std::size_t key_stride = longest + 16;
  const std::size_t per_head = key_stride * std::size_t(d_head);
  s.block_keys_t.resize(std::size_t(n_kv) * per_head);
  s.block_values.resize(std::size_t(n_kv) * per_head);
  // 16-bit cache rows are widened here, as they are gathered: the products then run on float32. Every
  // key of the call is gathered each time (memory-bound, and not small at thousands of keys): each thread
  // takes a share of every KV head's keys.
  const bool half = view.dtype != WeightDtype::F32;
  ThreadPool& pool = shared_pool();
  const KernelSet& kernels = active_kernels();
  auto gather = [&](int chunk) {
    std::vector<float> widened(half ? std::size_t(d_head) : 0);
    for (int g = 0; g < n_kv; ++g) {
      const AttentionLane& lane = s.lanes[std::size_t(g)];
      float* keys_t = s.block_keys_t.data() + std::size_t(g) * per_head;
      float* values = s.block_values.data() + std::size_t(g) * per_head;
      const std::size_t count = lane.keys.size(), parts = std::size_t(pool.size());
      for (std::size_t j = count * std::size_t(chunk) / parts; j < count * std::size_t(chunk + 1) / parts; ++j) {
        const float* key = lane.key_rows[j];
        if (half) {
          const HalfRowKernels& widen = half_row_kernels(kernels, view.dtype);
          widen.widen(lane.value_rows16[j], d_head, values + j * std::size_t(d_head));
          widen.widen(lane.key_rows16[j], d_head, widened.data());
          key = widened.data();
        } else {
          std::copy(lane.value_rows[j], lane.value_rows[j] + d_head, values + j * std::size_t(d_head));
        }
        for (int c = 0; c < d_head; ++c) keys_t[std::size_t(c) * key_stride + j] = key[c];
      }
    }
  };
  if (pool.size() == 1)
    gather(0);
  else
    pool.run_chunks(gather);

  const int row_blocks = (n + kQueryBlock - 1) / kQueryBlock, items = n_kv * row_blocks;
  // Attention received by key sums over rows: a record that keeps it runs on one thread, in row order.
  const int threads = received ? 1 : pool.size();
  // Per thread: the stacked queries [group x rows, d_head], their scores then weights [group x rows,
  // width], outputs [group x rows, d_head] and softmax sums. Stacked row h_in_group * rows + t.
  const std::size_t stacked = std::size_t(group) * kQueryBlock;
  const std::size_t per_thread = stacked * (2 * std::size_t(d_head) + longest + 1);
  s.block_scores.resize(std::size_t(threads) * per_thread);
  auto run = [&](int chunk) {
    float* queries = s.block_scores.data() + std::size_t(chunk) * per_thread;
    float* outputs = queries + stacked * std::size_t(d_head);
    float* sums = outputs + stacked * std::size_t(d_head);
    float* scores = sums + stacked;
    // Items from the last block of rows down (they read the most keys), strided over the threads; in
    // order on one thread when a record sums attention by key.
    for (int step = chunk; step < items; step += threads) {
      const int item = received ? step : items - 1 - step;
      const int g = item % n_kv, i0 = (item / n_kv) * kQueryBlock, rows = std::min(kQueryBlock, n - i0);
      const std::vector<int>& keys = s.lanes[std::size_t(g)].keys;
      // The slice [lo, hi) of this head's keys that rows i0..i0+rows-1 read.
      const auto lo = std::lower_bound(keys.begin(), keys.end(), visible_span(first_position + i0, window).first);
      const auto hi = std::upper_bound(lo, keys.end(), first_position + i0 + rows - 1);
      const int width = int(hi - lo), offset = int(lo - keys.begin()), m = group * rows;
      for (int a = 0; a < group; ++a)
        for (int t = 0; t < rows; ++t) {
          const float* q = s.q.row(i0 + t).data() + (g * group + a) * d_head;
          float* to = queries + std::size_t(a * rows + t) * std::size_t(d_head);
          for (int c = 0; c < d_head; ++c) to[c] = q[c] * scale;
        }
      kernels.matmul_columns(s.block_keys_t.data() + std::size_t(g) * per_head + std::size_t(offset), std::int64_t(key_stride),
                             width, d_head, queries, d_head, m, scores, width);
      for (int a = 0; a < group; ++a)
        for (int t = 0; t < rows; ++t) {
          const int position = first_position + i0 + t;
          const int begin = int(std::lower_bound(lo, hi, visible_span(position, window).first) - lo);
          const int end = int(std::upper_bound(lo, hi, position) - lo);
          float* row = scores + std::size_t(a * rows + t) * std::size_t(width);
          if (cap > 0.0f)
            for (int j = begin; j < end; ++j) row[j] = cap * std::tanh(row[j] / cap);
          float top;
          const float sum = sums[a * rows + t] = kernels.exp_sum(row + begin, end - begin, &top);
          std::fill(row, row + begin, 0.0f);
          std::fill(row + end, row + width, 0.0f);
          if (r && g == 0 && a == 0) r->row_read(i0 + t, *(lo + begin), *(lo + end - 1), end - begin);
          if (keep_weights) r->keep_weights(g * group + a, i0 + t, &*(lo + begin), row + begin, end - begin, sum);
          if (received)
            for (int j = begin; j < end; ++j) (*received)(g, *(lo + j)) += double(row[j] / sum);
        }
      kernels.matmul_columns(s.block_values.data() + std::size_t(g) * per_head + std::size_t(offset) * std::size_t(d_head),
                             d_head, d_head, width, scores, width, m, outputs, d_head);
      // Each output row divided by its softmax's sum, into its query head's columns.
      for (int a = 0; a < group; ++a)
        for (int t = 0; t < rows; ++t) {
          const float inverse = 1.0f / sums[a * rows + t];
          const float* from = outputs + std::size_t(a * rows + t) * std::size_t(d_head);
          float* to = s.mixed.row(i0 + t).data() + (g * group + a) * d_head;
          for (int c = 0; c < d_head; ++c) to[c] = from[c] * inverse;
        }
    }
  };
  if (threads == 1)
    run(0);
  else
    pool.run_chunks(run);
}

}  // namespace kvscope
