#include "core/engine/forward/forward_record.h"

#include <algorithm>

namespace kvscope {

void LayerRecord::begin_attention(int n_head, int n_kv_head, int n_rows, int key_end, int window_used, bool weights,
                                  bool received) {
  window = window_used;
  if (weights) attention.assign(std::size_t(n_head), Matrix::Zero(n_rows, key_end));
  if (received) key_attention.setZero(n_kv_head, key_end);
  visible_keys.assign(std::size_t(n_rows), KeySpan{});
  row_keys_read.assign(std::size_t(n_rows), 0);
}

void LayerRecord::finish_attention(const std::vector<std::vector<int>>& held_by_kv_head, int first_position) {
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
