#include "core/engine/session/policy_step.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

namespace kvscope {

namespace {

std::vector<int> union_of(const std::vector<std::vector<int>>& lists) {
  std::vector<int> all;
  for (const std::vector<int>& l : lists) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

bool same_words(const std::vector<const char*>& a, const std::vector<const char*>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const char* x, const char* y) { return std::strcmp(x, y) == 0; });
}

// Per layer: the newest query row's attention per key position, averaged over the query heads (TOVA's score).
std::vector<std::vector<double>> newest_attention(const ForwardRecord& record) {
  std::vector<std::vector<double>> out;
  for (const LayerRecord& l : record.layers) {
    std::vector<double> mean(std::size_t(record.key_end), 0.0);
    for (const RowVector& a : l.newest_attention)
      for (Eigen::Index k = 0; k < a.size() && k < Eigen::Index(mean.size()); ++k)
        mean[std::size_t(k)] += double(a[k]) / double(l.newest_attention.size());
    out.push_back(std::move(mean));
  }
  return out;
}

}  // namespace

Eviction end_policy_step(PolicyKvCache& cache, const ForwardRecord* record) {
  const EvictionRule& rule = *cache.policy().rule;
  if (rule.uses_attention_sums() && record)
    for (int l = 0; l < cache.n_layer(); ++l) cache.add_attention(l, record->layers[std::size_t(l)].key_attention);
  if (rule.uses_newest_attention() && record) {
    const std::vector<std::vector<double>> newest = newest_attention(*record);
    return cache.evict(&newest);
  }
  return cache.evict(nullptr);
}

void finish_policy_step(const Model& model, const std::vector<int>& tokens, int window, PolicyKvCache& cache,
                        KvCache& full, ModeTrace& cached, ForwardScratch* scratch) {
  PolicyTrace& t = cached.policy;
  const KvPolicy& policy = cache.policy();
  t.active = true;
  t.spec = policy.to_string();
  // The rows read this step were dequantized when the forward read them: their errors are measured now.
  for (int l = 0; l < cache.n_layer(); ++l) {
    t.max_abs_k_error = std::max(t.max_abs_k_error, cache.read_key_error(l));
    t.max_abs_v_error = std::max(t.max_abs_v_error, cache.read_value_error(l));
  }
  RowVector full_logits;
  model.forward_cached(tokens, full, window, full_logits, nullptr, scratch);
  const Divergence d = divergence(full_logits, cached.logits);
  t.kl_from_full = d.kl;
  t.max_abs_prob_diff = d.max_abs_prob_diff;
  t.full_top1 = d.top_p;
  t.policy_top1 = d.top_q;
  t.top1_agrees = d.top_p == d.top_q;

  Eviction e = end_policy_step(cache, &cached.forward);
  const int n_layer = cache.n_layer(), n_kv = cache.n_kv_head();
  t.evicts = policy.evicts();
  t.max_rows = policy.rule->max_rows();
  // One [1][1] list when every layer and KV head kept the same, else [layer][KV head].
  t.per_head = false;
  for (int l = 0; l < n_layer && !t.per_head; ++l)
    for (int g = 0; g < n_kv; ++g)
      if (e.kept[std::size_t(l)][std::size_t(g)].positions != e.kept[0][0].positions ||
          !same_words(e.kept[std::size_t(l)][std::size_t(g)].reasons, e.kept[0][0].reasons) ||
          e.evicted[std::size_t(l)][std::size_t(g)] != e.evicted[0][0])
        t.per_head = true;
  const int layers = t.per_head ? n_layer : 1, heads = t.per_head ? n_kv : 1;
  t.kept.assign(std::size_t(layers), std::vector<std::vector<int>>(std::size_t(heads)));
  t.evicted = t.kept;
  t.reasons.assign(std::size_t(layers), std::vector<std::vector<const char*>>(std::size_t(heads)));
  for (int l = 0; l < layers; ++l)
    for (int g = 0; g < heads; ++g) {
      KeptRows& k = e.kept[std::size_t(l)][std::size_t(g)];
      t.kept[l][g] = std::move(k.positions);
      t.reasons[l][g] = std::move(k.reasons);
      t.evicted[l][g] = e.evicted[std::size_t(l)][std::size_t(g)];
    }
  const std::vector<std::vector<std::vector<int>>>& evicted = e.evicted;
  // The record said what the cache held right after the forward; the policy evicted since.
  for (int l = 0; l < n_layer && l < int(cached.forward.layers.size()); ++l) {
    LayerRecord& r = cached.forward.layers[std::size_t(l)];
    r.held_rows = t.per_head ? union_of(t.kept[l]) : t.kept[0][0];
    std::vector<int> gone = union_of(evicted[std::size_t(l)]);
    r.evicted_rows.insert(r.evicted_rows.end(), gone.begin(), gone.end());
    std::sort(r.evicted_rows.begin(), r.evicted_rows.end());
  }
  t.stored.clear();
  if (policy.quantizer->lossy())
    for (int l = 0; l < n_layer; ++l)
      for (int g = 0; g < n_kv; ++g) {
        const std::vector<int>& held = cache.held(l, g);
        if (held.empty()) continue;
        for (int p : {held.front(), held.back()}) {
          if (!t.stored.empty() && t.stored.back().layer == l && t.stored.back().kv_head == g && t.stored.back().position == p) continue;
          PolicyTrace::StoredSample sample{l, g, p, {}};
          if (cache.describe(l, p, g, &sample.row)) t.stored.push_back(std::move(sample));
        }
      }
  t.cache_bytes = cache.bytes_held();
  t.full_cache_bytes = full.bytes_held();
  cached.cache_bytes = t.cache_bytes;
  cached.cache_bytes_allocated = cache.bytes_allocated();
}

}  // namespace kvscope
