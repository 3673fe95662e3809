#include "core/engine/session/trace.h"

#include <algorithm>
#include <utility>

namespace kvscope {

const char* PolicyTrace::reason_of(int layer, int kv_head, int position) const {
  if (kept.empty()) return "";
  const std::vector<int>& k = kept_at(layer, kv_head);
  const auto it = std::lower_bound(k.begin(), k.end(), position);
  if (it == k.end() || *it != position) return "";
  return reasons_at(layer, kv_head)[std::size_t(it - k.begin())];
}

std::vector<std::pair<std::string, std::vector<int>>> PolicyTrace::kept_by_reason(int layer, int kv_head) const {
  std::vector<std::pair<std::string, std::vector<int>>> groups;
  if (kept.empty()) return groups;
  const std::vector<int>& k = kept_at(layer, kv_head);
  const std::vector<const char*>& why = reasons_at(layer, kv_head);
  for (std::size_t i = 0; i < k.size(); ++i) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == why[i]; });
    if (it == groups.end()) it = groups.insert(groups.end(), {why[i], {}});
    it->second.push_back(k[i]);
  }
  return groups;
}

std::int64_t ModeTrace::rows_computed() const {
  std::int64_t n = 0;
  for (const LayerRecord& l : forward.layers) n += std::int64_t(l.computed_rows.size());
  return n;
}

bool StepTrace::key_visible(int layer, int query, int key) const {
  for (const ModeTrace* m : {&uncached, &cached}) {
    if (!m->ran || layer >= int(m->forward.layers.size())) continue;
    const int row = query - m->forward.query_begin;
    if (row < 0 || row >= int(m->forward.layers[layer].visible_keys.size())) continue;
    return m->forward.key_read(layer, query, key);
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

namespace {

void drop_mode(ModeTrace& m, bool keep_rows) {
  m.logits = RowVector();
  for (LayerRecord& l : m.forward.layers) {
    std::vector<Matrix>().swap(l.attention);
    std::vector<RowVector>().swap(l.newest_attention);
    l.pooled = PooledAttention{};
    l.queries = Matrix();
    l.query = RowVector();
    l.rebuilt_keys = Matrix();  // MLA's temporaries: O(t) per step
    l.rebuilt_values = Matrix();
    if (keep_rows) continue;  // the cached mode's K/V rows are the cache's contents: later steps show them
    l.keys = Matrix();
    l.keys_unrotated = Matrix();
    l.values = Matrix();
    l.latent_rows = Matrix();
  }
}

void restore_mode(ModeTrace& slim, ModeTrace&& full, bool keep_rows) {
  slim.logits = std::move(full.logits);
  const std::size_t n = std::min(slim.forward.layers.size(), full.forward.layers.size());
  for (std::size_t i = 0; i < n; ++i) {
    LayerRecord& s = slim.forward.layers[i];
    LayerRecord& f = full.forward.layers[i];
    s.attention = std::move(f.attention);
    s.newest_attention = std::move(f.newest_attention);
    s.pooled = std::move(f.pooled);
    s.queries = std::move(f.queries);
    s.query = std::move(f.query);
    s.rebuilt_keys = std::move(f.rebuilt_keys);
    s.rebuilt_values = std::move(f.rebuilt_values);
    if (keep_rows) continue;
    s.keys = std::move(f.keys);
    s.keys_unrotated = std::move(f.keys_unrotated);
    s.values = std::move(f.values);
    s.latent_rows = std::move(f.latent_rows);
  }
}

}  // namespace

std::int64_t large_tensor_bytes(const StepTrace& t) {
  std::int64_t floats = t.uncached.logits.size() + t.cached.logits.size();
  for (const ModeTrace* m : {&t.uncached, &t.cached})
    for (const LayerRecord& l : m->forward.layers) {
      for (const Matrix& a : l.attention) floats += a.size();
      for (const RowVector& a : l.newest_attention) floats += a.size();
      for (const Matrix& a : l.pooled.max) floats += 2 * a.size();  // max and mean
      floats += l.queries.size() + l.query.size() + l.rebuilt_keys.size() + l.rebuilt_values.size();
      if (m == &t.uncached) floats += l.keys.size() + l.keys_unrotated.size() + l.values.size() + l.latent_rows.size();
    }
  return floats * std::int64_t(sizeof(float));
}

void drop_large_tensors(StepTrace& t) {
  if (t.tensors_dropped) return;
  drop_mode(t.uncached, false);
  drop_mode(t.cached, true);
  t.tensors_dropped = true;
}

void restore_large_tensors(StepTrace& slim, StepTrace&& full) {
  if (!slim.tensors_dropped) return;
  restore_mode(slim.uncached, std::move(full.uncached), false);
  restore_mode(slim.cached, std::move(full.cached), true);
  slim.tensors_dropped = false;
}

}  // namespace kvscope
