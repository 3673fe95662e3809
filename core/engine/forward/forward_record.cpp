#include "core/engine/forward/forward_record.h"

#include <algorithm>

namespace kvscope {

AttentionKeep ForwardRecord::keep_for(int n_rows, int key_end, int n_head) const {
  AttentionKeep keep;
  if (!with_attention) return keep;
  keep.weights = true;
  const std::int64_t bytes = std::int64_t(layers.size()) * n_head * n_rows * std::int64_t(key_end) * std::int64_t(sizeof(float));
  keep.exact = bytes <= exact_attention_bytes;
  if (keep.exact && key_end <= pool_above_positions) return keep;
  // A power of two, so a cell's positions stay the same as the context grows by a step.
  keep.cell = 1;
  while ((key_end + keep.cell - 1) / keep.cell > pool_cells) keep.cell *= 2;
  return keep;
}

void LayerRecord::begin_attention(int n_head, int n_kv_head, int n_rows, int key_end, int window_used, AttentionKeep keep,
                                  bool received, PooledRows* rows) {
  window = window_used;
  attention.clear();
  newest_attention.clear();
  pooled = PooledAttention{};
  newest_row_ = keep.weights ? n_rows - 1 : -1;
  if (keep.exact) attention.assign(std::size_t(n_head), Matrix::Zero(n_rows, key_end));
  if (keep.weights) newest_attention.assign(std::size_t(n_head), RowVector::Zero(key_end));
  rows_ = keep.cell > 0 ? rows : nullptr;
  if (rows_) {
    pooled.cell = keep.cell;
    const int key_cells = (key_end + keep.cell - 1) / keep.cell;
    rows_->max.resize(std::size_t(n_head));
    rows_->sum.resize(std::size_t(n_head));
    for (int h = 0; h < n_head; ++h) {
      rows_->max[std::size_t(h)].setConstant(n_rows, key_cells, -1.0f);
      rows_->sum[std::size_t(h)].setZero(n_rows, key_cells);
    }
  }
  if (received) key_attention.setZero(n_kv_head, key_end);
  visible_keys.assign(std::size_t(n_rows), KeySpan{});
  row_keys_read.assign(std::size_t(n_rows), 0);
}

void LayerRecord::keep_weights(int h, int row, const int* keys, const float* weights, int count, float divisor) {
  const std::size_t head = std::size_t(h);
  const float inverse = 1.0f / divisor;
  if (!attention.empty()) {
    Matrix& a = attention[head];
    for (int j = 0; j < count; ++j) a(row, keys[j]) = weights[j] * inverse;
  }
  if (row == newest_row_) {
    RowVector& newest = newest_attention[head];
    for (int j = 0; j < count; ++j) newest[keys[j]] = weights[j] * inverse;
  }
  if (!rows_) return;
  float* max = rows_->max[head].row(row).data();
  float* sum = rows_->sum[head].row(row).data();
  // Runs of keys inside one cell (keys ascend); four running maxima and sums so the adds do not wait on
  // each other (a long prompt passes some billions of weights through here).
  const int cell = pooled.cell;
  for (int j = 0; j < count;) {
    const int c = keys[j] / cell, cell_end = (c + 1) * cell;
    int e = j;
    while (e < count && keys[e] < cell_end) ++e;
    float m[4] = {max[c], max[c], max[c], max[c]}, t[4] = {};
    int i = j;
    for (; i + 4 <= e; i += 4)
      for (int l = 0; l < 4; ++l) {
        const float w = weights[i + l] * inverse;
        m[l] = std::max(m[l], w);
        t[l] += w;
      }
    for (; i < e; ++i) {
      const float w = weights[i] * inverse;
      m[0] = std::max(m[0], w);
      t[0] += w;
    }
    max[c] = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
    sum[c] += (t[0] + t[1]) + (t[2] + t[3]);
    j = e;
  }
}

namespace {
// Rows of cell row r (positions [r * cell, (r + 1) * cell)) among the call's query positions [first, end).
int rows_in_cell(int r, int cell, int first, int end) {
  return std::max(0, std::min(end, (r + 1) * cell) - std::max(first, r * cell));
}
}  // namespace

void LayerRecord::finish_attention(const std::vector<std::vector<int>>& held_by_kv_head, int first_position) {
  if (rows_) {
    const std::vector<Matrix>& row_max = rows_->max;
    const std::vector<Matrix>& row_sum = rows_->sum;
    const int cell = pooled.cell, n_rows = int(row_max.front().rows()), key_cells = int(row_max.front().cols());
    const int key_end = first_position + n_rows;
    pooled.row_cell_begin = first_position / cell;
    const int row_cells = (key_end - 1) / cell - pooled.row_cell_begin + 1;
    pooled.max.assign(row_max.size(), Matrix::Constant(row_cells, key_cells, -1.0f));
    pooled.mean.assign(row_max.size(), Matrix::Zero(row_cells, key_cells));
    for (std::size_t h = 0; h < row_max.size(); ++h) {
      for (int i = 0; i < n_rows; ++i) {
        const int r = (first_position + i) / cell - pooled.row_cell_begin;
        pooled.max[h].row(r) = pooled.max[h].row(r).cwiseMax(row_max[h].row(i));
        pooled.mean[h].row(r) += row_sum[h].row(i);
      }
      for (int r = 0; r < row_cells; ++r) {
        const int rows = rows_in_cell(r + pooled.row_cell_begin, cell, first_position, key_end);
        for (int c = 0; c < key_cells; ++c)
          pooled.mean[h](r, c) /= float(rows * std::min(cell, key_end - c * cell));
      }
    }
    rows_ = nullptr;
  }
  reused_rows.clear();
  if (visible_keys.empty()) return;
  const int first_read = visible_keys.front().first;
  for (const std::vector<int>& held : held_by_kv_head)
    for (int p : held)
      if (p >= first_read && p < first_position) reused_rows.push_back(p);
  std::sort(reused_rows.begin(), reused_rows.end());
  reused_rows.erase(std::unique(reused_rows.begin(), reused_rows.end()), reused_rows.end());
}

}  // namespace kvscope
