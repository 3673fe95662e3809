#include "core/engine/policy_step.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace kvscope {

namespace {

std::vector<double> softmax(const RowVector& logits) {
  std::vector<double> p(std::size_t(logits.size()));
  const double top = logits.maxCoeff();
  double sum = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += (p[i] = std::exp(double(logits[Eigen::Index(i)]) - top));
  for (double& x : p) x /= sum;
  return p;
}

std::vector<int> union_of(const std::vector<std::vector<int>>& lists) {
  std::vector<int> all;
  for (const std::vector<int>& l : lists) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

// Kept positions that are neither sinks nor in the newest window: the heavy hitters.
std::vector<int> heavy_of(const std::vector<int>& kept, int sinks, int newest_from) {
  std::vector<int> heavy;
  for (int p : kept)
    if (p >= sinks && p < newest_from) heavy.push_back(p);
  return heavy;
}

}  // namespace

Divergence divergence(const RowVector& logits_p, const RowVector& logits_q) {
  Divergence d;
  const std::vector<double> p = softmax(logits_p), q = softmax(logits_q);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] > 0.0) d.kl += p[i] * (std::log(p[i]) - std::log(std::max(q[i], 1e-300)));
    d.max_abs_prob_diff = std::max(d.max_abs_prob_diff, float(std::abs(p[i] - q[i])));
  }
  d.kl = std::max(0.0, d.kl);  // rounding can leave -1e-17 for equal distributions
  logits_p.maxCoeff(&d.top_p);
  logits_q.maxCoeff(&d.top_q);
  return d;
}

std::vector<std::vector<std::vector<int>>> end_policy_step(PolicyKvCache& cache, const ForwardRecord* record) {
  if (cache.policy().heavy > 0 && record)
    for (int l = 0; l < cache.n_layer(); ++l) cache.add_attention(l, record->layers[std::size_t(l)].key_attention);
  return cache.evict();
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

  const std::vector<std::vector<std::vector<int>>> evicted = end_policy_step(cache, &cached.forward);
  const int end = cache.next_position(), n_layer = cache.n_layer(), n_kv = cache.n_kv_head();
  t.newest_from = policy.evicts() ? std::max(0, end - policy.window) : 0;
  for (int p = 0; p < std::min(policy.sinks, end); ++p) t.sinks.push_back(p);
  t.per_head = policy.heavy > 0;
  const int layers = t.per_head ? n_layer : 1, heads = t.per_head ? n_kv : 1;
  t.kept.assign(std::size_t(layers), std::vector<std::vector<int>>(std::size_t(heads)));
  t.evicted = t.heavy = t.kept;
  for (int l = 0; l < layers; ++l)
    for (int g = 0; g < heads; ++g) {
      t.kept[l][g] = cache.held(l, g);
      t.evicted[l][g] = evicted[std::size_t(l)][std::size_t(g)];
      if (policy.evicts()) t.heavy[l][g] = heavy_of(t.kept[l][g], policy.sinks, t.newest_from);
    }
  // The record said what the cache held right after the forward; the policy evicted since.
  for (int l = 0; l < n_layer && l < int(cached.forward.layers.size()); ++l) {
    LayerRecord& r = cached.forward.layers[std::size_t(l)];
    r.held_rows = t.per_head ? union_of(t.kept[l]) : t.kept[0][0];
    std::vector<int> gone = union_of(evicted[std::size_t(l)]);
    r.evicted_rows.insert(r.evicted_rows.end(), gone.begin(), gone.end());
    std::sort(r.evicted_rows.begin(), r.evicted_rows.end());
  }
  t.cache_bytes = cache.bytes_held();
  t.full_cache_bytes = full.bytes_held();
  cached.cache_bytes = t.cache_bytes;
  cached.cache_bytes_allocated = cache.bytes_allocated();
}

}  // namespace kvscope
