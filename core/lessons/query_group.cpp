#include "core/lessons/query_group.h"

#include <algorithm>
#include <cmath>

#include "core/lessons/caption.h"

namespace kvscope {

QueryGroupReads query_group_reads(const StepTrace& t, int layer, int kv_head) {
  QueryGroupReads r;
  const ModeTrace& m = t.cached;
  if (!m.ran || !m.forward.with_attention || layer < 0 || layer >= int(m.forward.layers.size())) return r;
  const LayerRecord& l = m.forward.layers[std::size_t(layer)];
  const std::vector<int> group = t.query_heads_of(kv_head);
  if (group.empty()) return r;
  r.layer = layer;
  r.kv_head = kv_head;
  r.query_position = t.newest_position();
  for (int k = 0; k < t.position_end; ++k)
    if (m.forward.key_read(layer, r.query_position, k)) r.positions.push_back(k);
  const int row = r.query_position - m.forward.query_begin;
  for (int h : group) {
    if (h >= int(l.attention.size()) || row < 0 || row >= l.attention[std::size_t(h)].rows()) return QueryGroupReads{};
    QueryHeadReads reads;
    reads.head = h;
    for (int k : r.positions) {
      reads.weights.push_back(l.attention[std::size_t(h)](row, k));
      reads.weight_sum += double(reads.weights.back());
    }
    r.heads.push_back(std::move(reads));
  }
  for (std::size_t i = 0; i < r.positions.size(); ++i)
    for (std::size_t a = 0; a < r.heads.size(); ++a)
      for (std::size_t b = a + 1; b < r.heads.size(); ++b)
        r.max_weight_gap = std::max(r.max_weight_gap, std::abs(double(r.heads[a].weights[i]) - double(r.heads[b].weights[i])));
  FigureLog f;
  std::string heads;
  for (std::size_t i = 0; i < r.heads.size(); ++i)
    heads += (i == 0 ? "" : i + 1 == r.heads.size() ? " and " : ", ") +
             f.note("head", r.heads[i].head, std::to_string(r.heads[i].head));
  const int n = int(r.positions.size());
  r.title = f.note("kv_head", kv_head, "KV head " + std::to_string(kv_head)) + " (" +
            f.note("layer", layer, "layer " + std::to_string(layer)) + "): its " +
            f.note("keys_read", n, std::to_string(n) + (n == 1 ? " row" : " rows"), {{"layer", layer}, {"mode", "cached"}}) +
            ", read by query heads " + heads + " at position " +
            f.note("position", r.query_position, std::to_string(r.query_position));
  r.figures = std::move(f.figures());
  r.available = true;
  return r;
}

}  // namespace kvscope
