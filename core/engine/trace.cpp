#include "core/engine/trace.h"

namespace kvscope {

std::int64_t ModeTrace::rows_computed() const {
  std::int64_t n = 0;
  for (const LayerRecord& l : forward.layers) n += std::int64_t(l.computed_rows.size());
  return n;
}

bool StepTrace::key_visible(int layer, int query, int key) const {
  for (const ModeTrace* m : {&uncached, &cached}) {
    if (!m->ran || layer >= int(m->forward.layers.size())) continue;
    const std::vector<KeySpan>& spans = m->forward.layers[layer].visible_keys;
    const int row = query - m->forward.query_begin;
    if (row >= 0 && row < int(spans.size())) return spans[row].contains(key);
  }
  return false;
}

int StepTrace::kv_head_of(int query_head) const {
  const std::vector<int>& map = (cached.ran ? cached : uncached).forward.kv_head_of_query;
  return query_head >= 0 && query_head < int(map.size()) ? map[query_head] : query_head;
}

std::vector<int> StepTrace::query_heads_of(int kv_head) const {
  std::vector<int> heads;
  const std::vector<int>& map = (cached.ran ? cached : uncached).forward.kv_head_of_query;
  for (int h = 0; h < int(map.size()); ++h)
    if (map[h] == kv_head) heads.push_back(h);
  return heads;
}

}  // namespace kvscope
