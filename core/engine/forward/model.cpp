#include "core/engine/forward/model.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>
#include <utility>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/linear.h"
#include "core/engine/kernels/norms.h"
#include "core/engine/model/rope.h"
#include "core/engine/kernels/thread_pool.h"

namespace kvscope {

namespace {
const Vector* bias_or_null(const Vector& b) { return b.size() ? &b : nullptr; }

// Rows from which a call's rotary positions are shared across the threads (a prefill's cosines and sines).
constexpr std::int64_t kSplitRotationFromRows = 64;

// Positions a layer holds for any KV head, ascending.
std::vector<int> held_union(const KvRows& cache, int layer, int n_kv_head) {
  std::vector<int> all, one;
  for (int g = 0; g < n_kv_head; ++g) {
    cache.held_positions(layer, g, one);
    all.insert(all.end(), one.begin(), one.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}
}  // namespace

Model::Model(ModelConfig config, ModelWeights weights)
    : config_(config), weights_(std::make_shared<const ModelWeights>(std::move(weights))) {
  validate(config_);
  check_shapes(*weights_, config_);
  if (config_.rotary()) inv_freq_ = rope_inverse_frequencies(config_);
  if (config_.rotary() && config_.n_local_layers() > 0) inv_freq_local_ = rope_inverse_frequencies(config_, true);
}

// QkvLayout::Fused (GPT-2): qkv = Norm(x) W_qkv^T + b, split into Q | K | V.
void Model::project_qkv_fused(int layer, ForwardScratch& s) const {
  const LayerWeights& w = weights_->layers[layer];
  const int d = config_.d_model;
  pre_norm(s.x, w.ln_1_gamma, w.ln_1_beta, s.normed);
  project(s.normed, w.attn_qkv, config_.qkv_bias ? &w.attn_qkv_bias : nullptr, s.qkv);
  s.q = s.qkv.leftCols(d);
  s.k = s.qkv.middleCols(d, d);
  s.v = s.qkv.rightCols(d);
}

// QkvLayout::Separate (Llama): q, k, v = Norm(x) W^T (+ b); Qwen3 and Gemma 3 norm each head of q
// and k; then rotary positions turn q and k to their positions (a local layer by its own base). K is
// cached after rotation, as Hugging Face and the reference do.
void Model::project_qkv_separate(int layer, ForwardScratch& s, int first_position) const {
  const LayerWeights& w = weights_->layers[layer];
  const int d_head = config_.d_head();
  const float offset = gain_offset();
  pre_norm(s.x, w.ln_1_gamma, w.ln_1_beta, s.normed);
  project(s.normed, w.attn_q, bias_or_null(w.attn_q_bias), s.q);
  project(s.normed, w.attn_k, bias_or_null(w.attn_k_bias), s.k);
  project(s.normed, w.attn_v, bias_or_null(w.attn_v_bias), s.v);
  if (w.q_norm.size()) {
    rms_norm_in_place(s.q, w.q_norm, config_.layer_norm_eps, d_head, offset);
    rms_norm_in_place(s.k, w.k_norm, config_.layer_norm_eps, d_head, offset);
    round(s.q);
    round(s.k);
  }
  s.k_unrotated = s.k;
  if (!config_.rotary()) return;
  // A row's angles once for its query and key; a long call's rows split across the threads, so the
  // other thread does not wait out a prefill's cosines and sines.
  const std::vector<double>& freq = inv_freq(layer);
  split_range(s.q.rows(), kSplitRotationFromRows, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> cos_a(freq.size()), sin_a(freq.size());
    for (std::int64_t i = begin; i < end; ++i) {
      rope_angles(first_position + int(i), freq, cos_a.data(), sin_a.data());
      rotate_heads(s.q.row(i).data(), config_.n_head, d_head, cos_a.data(), sin_a.data());
      rotate_heads(s.k.row(i).data(), config_.kv_heads(), d_head, cos_a.data(), sin_a.data());
    }
  });
  round(s.q);
  round(s.k);
}

// Per query row and head: softmax(q K^T x scale) over the keys the row reads (scale 1/sqrt(d_head), or
// Gemma's query_pre_attn_scalar^-1/2; scores soft-capped when the config says), then the weighted
// sum of V. Query head h reads K/V head kv_head_of(h): MHA, GQA and MQA are this one loop. The keys
// a row reads for a KV head are the positions the cache holds for it inside the row's window, then the
// new rows up to the row itself, ascending: for a cache that evicts nothing that is the whole span.
// The (row, KV head) pairs are split across the shared thread pool; each writes only its own row's
// output columns and attention entries.
namespace {
// Decode steps whose span is at least this long split each KV head's keys across the threads: below it,
// a block's work is too small to be worth waking the pool for.
constexpr int kSplitMinKeys = 512;
// Keys a block at most (attend_split), per KV head: SmolLM2's 3 heads x 64 floats x 512 keys are 384 KiB
// of K and as much of V.
constexpr std::size_t kSplitBlockKeys = 512;
// Calls with at least this many new rows attend in blocks (attend_blocked): below it, packing the keys
// costs more than the products save.
constexpr int kBlockedMinRows = 16;
}  // namespace

void Model::attend(int layer, ForwardScratch& s, int first_position, KvRows& cache, int window,
                   ForwardRecord* record) const {
  const int n = int(s.q.rows()), n_kv = config_.kv_heads();
  const int layer_window = config_.effective_window(layer, window);
  // MLA: the cache holds latent rows; attention reads K and V rebuilt from them for this call.
  const KvLayerView view = config_.mla() ? rebuild_kv(layer, s, first_position, cache, layer_window) : cache.read_layer(layer);
  if (view.dtype != WeightDtype::F32) narrow_new_rows(s, view.dtype);
  const int key_end = first_position + n;
  LayerRecord* r = record ? &record->layers[layer] : nullptr;
  if (r)
    r->begin_attention(config_.n_head, n_kv, n, key_end, layer_window, record->keep_for(n, key_end, config_.n_head),
                       record->with_key_attention, &s.pooled_rows);
  s.mixed.setZero(n, config_.q_dim());
  s.held.resize(std::size_t(n_kv));
  for (int g = 0; g < n_kv; ++g) cache.held_positions(layer, g, s.held[std::size_t(g)]);

  // Pairs are numbered row-major (i * n_kv + g). Attention received by key sums over rows, so a record
  // that keeps it runs on one thread; so does a product too small to wake the others for.
  ThreadPool& pool = shared_pool();
  active_kernels();  // here, on the caller's thread, so a bad KVSCOPE_ISA throws to the caller, not in a worker
  const std::int64_t pairs = std::int64_t(n) * n_kv;
  const bool one_thread = (r && record->with_key_attention) || pool.size() == 1 ||
                          pairs * key_end * config_.d_head() * (config_.n_head / n_kv) < (1 << 15);
  const int threads = one_thread ? 1 : pool.size();
  // A decode step over a long span: each KV head's keys in blocks spread over the threads, so every
  // thread shares every head. Not when a record keeps each weight, nor in numerics that fix one order or round.
  const bool split = !one_thread && n == 1 && key_end >= kSplitMinKeys && !numerics_.rounds() && !numerics_.same_order &&
                     !(r && (record->with_attention || record->with_key_attention));
  // A prefill (or an uncached pass): blocks of rows through two matrix products per query head, recorded
  // or not (a record then keeps the same numbers the rows were computed with).
  const bool blocked = n >= kBlockedMinRows && !numerics_.rounds() && !numerics_.same_order;
  if (split || blocked) {
    if (split)
      attend_split(s, first_position, view, layer_window, r, threads);
    else
      attend_blocked(layer, s, first_position, view, layer_window, record);
    if (r) r->finish_attention(s.held, first_position);
    return;
  }
  if (int(s.lanes.size()) < threads) s.lanes.resize(std::size_t(threads));
  // Thread c takes pairs c, c + threads, ...: later rows read more keys, so no thread gets all of them.
  auto run = [&](int chunk) {
    for (std::int64_t p = chunk; p < pairs; p += threads)
      attend_row(layer, s, s.lanes[std::size_t(chunk)], int(p / n_kv), int(p % n_kv), first_position, view,
                 layer_window, record);
  };
  if (threads == 1)
    run(0);
  else
    pool.run_chunks(run);
  if (r) r->finish_attention(s.held, first_position);
}

void Model::gather_keys(ForwardScratch& s, AttentionLane& lane, KeySpan span, int g, int first_position,
                        const KvLayerView& view) const {
  gather_key_positions(s, lane, span, g, first_position);
  gather_key_rows(s, lane, g, first_position, view, 0, std::int64_t(lane.keys.size()));
}

void Model::gather_key_positions(const ForwardScratch& s, AttentionLane& lane, KeySpan span, int g, int first_position) const {
  std::vector<int>& keys = lane.keys;
  const std::vector<int>& held = s.held[std::size_t(g)];  // ascending
  keys.assign(std::lower_bound(held.begin(), held.end(), span.first), held.end());
  for (int p = std::max(first_position, span.first); p <= span.last; ++p) keys.push_back(p);
  lane.key_rows.resize(keys.size());
  lane.value_rows.resize(keys.size());
  lane.key_rows16.resize(keys.size());
  lane.value_rows16.resize(keys.size());
}

// A 16-bit cache: this call's new K and V rows rounded to the dtype the cache stores (as llama.cpp
// stores a token's K and V before attention reads them), kept as bits for the kernels and widened back
// into k and v, which the record and the cache write then see.
void Model::narrow_new_rows(ForwardScratch& s, WeightDtype dtype) const {
  auto narrow = dtype == WeightDtype::F16 ? float_to_half : float_to_bfloat16;
  auto widen = dtype == WeightDtype::F16 ? half_to_float : bfloat16_to_float;
  auto run = [&](Matrix& rows, std::vector<std::uint16_t>& bits) {
    bits.resize(std::size_t(rows.size()));
    float* values = rows.data();
    for (std::size_t i = 0; i < bits.size(); ++i) values[i] = widen(bits[i] = narrow(values[i]));
  };
  run(s.k, s.k16);
  run(s.v, s.v16);
}

// K or V rows of the keys [begin, end) at this KV head's columns: older positions from the cache (through
// its view: contiguous, ring or a block table), new ones from this call.
void Model::gather_key_rows(const ForwardScratch& s, AttentionLane& lane, int g, int first_position,
                            const KvLayerView& view, std::int64_t begin, std::int64_t end) const {
  const int kv_off = g * config_.d_head();
  lane.dtype = view.dtype;
  if (view.dtype != WeightDtype::F32) {
    const std::size_t row_dim = std::size_t(config_.kv_dim());
    for (std::int64_t j = begin; j < end; ++j) {
      const int pos = lane.keys[std::size_t(j)];
      const bool cached = pos < first_position;
      const std::size_t own = std::size_t(pos - first_position) * row_dim;
      lane.key_rows16[std::size_t(j)] = (cached ? view.key_row16(pos) : s.k16.data() + own) + kv_off;
      lane.value_rows16[std::size_t(j)] = (cached ? view.value_row16(pos) : s.v16.data() + own) + kv_off;
    }
    return;
  }
  for (std::int64_t j = begin; j < end; ++j) {
    const int pos = lane.keys[std::size_t(j)];
    const bool cached = pos < first_position;
    lane.key_rows[std::size_t(j)] = (cached ? view.key_row(pos) : s.k.row(pos - first_position).data()) + kv_off;
    lane.value_rows[std::size_t(j)] = (cached ? view.value_row(pos) : s.v.row(pos - first_position).data()) + kv_off;
  }
}

void Model::attend_split(ForwardScratch& s, int first_position, const KvLayerView& view, int window, LayerRecord* r,
                         int threads) const {
  const int n_kv = config_.kv_heads(), d_head = config_.d_head(), group = config_.n_head / n_kv;
  const float scale = config_.score_scale(), cap = config_.attn_softcap;
  if (int(s.lanes.size()) < n_kv) s.lanes.resize(std::size_t(n_kv));
  std::size_t longest = 0;
  // The key positions here; their rows' addresses in each block's own thread, below.
  for (int g = 0; g < n_kv; ++g) {
    gather_key_positions(s, s.lanes[std::size_t(g)], visible_span(first_position, window), g, first_position);
    longest = std::max(longest, s.lanes[std::size_t(g)].keys.size());
  }
  const std::vector<int>& keys = s.lanes[0].keys;
  if (r) r->row_read(0, keys.front(), keys.back(), int(keys.size()));
  // Blocks of at most kSplitBlockKeys keys, a multiple of the threads: a block's K and V rows then stay in
  // L2 while it is read. Query head h's block b sits at h * blocks + b.
  const int per_thread = int((longest + std::size_t(threads) * kSplitBlockKeys - 1) / (std::size_t(threads) * kSplitBlockKeys));
  const int blocks = threads * std::max(1, per_thread);
  const std::size_t block_len = (longest + std::size_t(blocks) - 1) / std::size_t(blocks);
  s.split_blocks.assign(std::size_t(config_.n_head * blocks), SoftmaxBlock{});
  s.split_outputs.assign(std::size_t(config_.n_head * blocks * d_head), 0.0f);
  s.split_scores.resize(std::size_t(blocks) * std::size_t(config_.n_head) * block_len);
  s.split_heads.resize(std::size_t(blocks) * std::size_t(n_kv));
  const KernelSet& kernels = active_kernels();
  // A block for every KV head at once (attend_block_kv_heads): a row's heads sit side by side, so the
  // block's K and V lines are read from memory once, by one thread, whole and in order. Blocks go to
  // whichever thread is free next.
  shared_pool().run_parts(blocks, [&](std::int64_t b) {
    KvHeadBlock* heads = s.split_heads.data() + std::size_t(b) * std::size_t(n_kv);
    for (int g = 0; g < n_kv; ++g) {
      AttentionLane& lane = s.lanes[std::size_t(g)];
      const std::int64_t count = std::int64_t(lane.keys.size());
      const std::int64_t begin = count * b / blocks, end = count * (b + 1) / blocks;
      gather_key_rows(s, lane, g, first_position, view, begin, end);
      const std::size_t slot = std::size_t(g * group * blocks + b);  // of the group's first query head
      heads[g] = KvHeadBlock{s.q.row(0).data() + g * group * d_head, lane.rows().from(begin), end - begin,
                             s.split_blocks.data() + slot, s.split_outputs.data() + slot * std::size_t(d_head)};
    }
    attend_block_kv_heads(kernels, heads, n_kv, group, d_head, scale, cap,
                          s.split_scores.data() + std::size_t(b) * std::size_t(config_.n_head) * block_len,
                          std::int64_t(block_len), blocks);
  });
  for (int h = 0; h < config_.n_head; ++h)
    combine_blocks(s.split_blocks.data() + std::size_t(h * blocks), s.split_outputs.data() + std::size_t(h * blocks * d_head),
                   blocks, d_head, s.mixed.row(0).data() + h * d_head);
}

void Model::attend_row(int layer, ForwardScratch& s, AttentionLane& lane, int i, int g, int first_position,
                       const KvLayerView& view, int window, ForwardRecord* record) const {
  const int d_head = config_.d_head(), group = config_.n_head / config_.kv_heads();
  const float scale = config_.score_scale(), cap = config_.attn_softcap;
  const KernelSet& kernels = active_kernels();
  LayerRecord* r = record ? &record->layers[layer] : nullptr;
  const bool keep_weights = r && record->with_attention;
  Eigen::MatrixXd* received = r && record->with_key_attention ? &r->key_attention : nullptr;
  gather_keys(s, lane, visible_span(first_position + i, window), g, first_position, view);
  const std::vector<int>& keys = lane.keys;
  const int count = int(keys.size());
  if (r && g == 0) r->row_read(i, keys.front(), keys.back(), count);
  lane.weights.resize(std::size_t(count));
  float* weights = lane.weights.data();
  for (int h = g * group; h < (g + 1) * group; ++h) {
    const int q_off = h * d_head;
    lane.rows().scores(kernels, s.q.row(i).data() + q_off, count, d_head, scale, weights);
    float max_score = -INFINITY;
    for (int j = 0; j < count; ++j) {
      if (cap > 0.0f) weights[j] = cap * std::tanh(weights[j] / cap);
      max_score = std::max(max_score, weights[j]);
    }
    round_values(numerics_, weights, count);  // the scores as a half-precision kernel writes them
    float sum = 0.0f;
    for (int j = 0; j < count; ++j) sum += (weights[j] = std::exp(weights[j] - max_score));
    for (int j = 0; j < count; ++j) weights[j] /= sum;
    round_values(numerics_, weights, count);
    lane.rows().weighted_sum(kernels, weights, count, d_head, s.mixed.row(i).data() + q_off);
    round_values(numerics_, s.mixed.row(i).data() + q_off, d_head);
    if (keep_weights) r->keep_weights(h, i, keys.data(), weights, count, 1.0f);
    if (received)
      for (int j = 0; j < count; ++j) (*received)(g, keys[std::size_t(j)]) += double(weights[j]);
  }
}

// MlpKind::Gelu (GPT-2): x += W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2. Gated (Llama: silu, Gemma 3:
// gelu_tanh): x += W_down (act(W_gate n) * W_up n), n = PreNorm(x); sandwich norms add a PostNorm.
void Model::mlp(int layer, ForwardScratch& s) const {
  const LayerWeights& w = weights_->layers[layer];
  const FamilyTraits& f = config_.traits();
  pre_norm(s.x, w.ln_2_gamma, w.ln_2_beta, s.normed);
  if (f.mlp == MlpKind::Gelu) {
    project(s.normed, w.mlp_fc, bias_or_null(w.mlp_fc_bias), s.hidden);
    gelu_in_place(s.hidden);
    round(s.hidden);
    project(s.hidden, w.mlp_proj, bias_or_null(w.mlp_proj_bias), s.projected);
  } else {
    project(s.normed, w.mlp_gate, nullptr, s.hidden);
    project(s.normed, w.mlp_up, nullptr, s.up);
    if (f.mlp == MlpKind::GeluGated)
      gelu_gate_in_place(s.hidden, s.up);
    else
      swiglu_in_place(s.hidden, s.up);
    round(s.hidden);
    project(s.hidden, w.mlp_proj, nullptr, s.projected);
  }
  if (f.sandwich_norms) {
    rms_norm_in_place(s.projected, w.post_mlp_norm, config_.layer_norm_eps, config_.d_model, gain_offset());
    round(s.projected);
  }
  s.x += s.projected;
  round(s.x);
}

void Model::project(const Matrix& x, const WeightMatrix& w, const Vector* bias, Matrix& y) const {
  linear(x, w, bias, y, numerics_.same_order);
  round(y);
}

// The family's norm of rows x into out: LayerNorm (gain and bias) or RMSNorm (gain, maybe 1 + w).
void Model::pre_norm(const Matrix& x, const Vector& gain, const Vector& bias, Matrix& out) const {
  if (config_.traits().norm == NormKind::LayerNorm) {
    layer_norm(x, gain, bias, config_.layer_norm_eps, out);
  } else {
    out = x;
    rms_norm_in_place(out, gain, config_.layer_norm_eps, config_.d_model, gain_offset());
  }
  round(out);
}

void Model::run_layer(int layer, ForwardScratch& s, int first_position, KvRows& cache, int window,
                      ForwardRecord* record) const {
  // Q, K, V of the n new rows only: older K and V are in the cache (MLA: Q and the latent rows).
  if (config_.mla())
    project_mla(layer, s, first_position);
  else if (config_.traits().qkv == QkvLayout::Separate)
    project_qkv_separate(layer, s, first_position);
  else
    project_qkv_fused(layer, s);
  attend(layer, s, first_position, cache, window, record);
  if (record) record_layer(record->layers[layer], record->with_rows, s, first_position);
  // New rows enter the cache only after every query of this call has read what it needs.
  const bool mla = config_.mla();  // MLA caches the latent row and rotated key, no V row
  for (Eigen::Index i = 0; i < s.k.rows(); ++i)
    cache.write(layer, first_position + int(i), mla ? s.latent.row(i).data() : s.k.row(i).data(), mla ? nullptr : s.v.row(i).data());
  // x += attention output W_o^T (+ b) (Gemma 3: normed first), then the MLP.
  const LayerWeights& w = weights_->layers[layer];
  project(s.mixed, w.attn_proj, bias_or_null(w.attn_proj_bias), s.projected);
  if (config_.traits().sandwich_norms) {
    rms_norm_in_place(s.projected, w.post_attn_norm, config_.layer_norm_eps, config_.d_model, gain_offset());
    round(s.projected);
  }
  s.x += s.projected;
  round(s.x);
  mlp(layer, s);
}

// The trace's view of one layer: rows computed and reused, keys each query saw, MACs by closed form.
void Model::record_layer(LayerRecord& r, bool with_rows, const ForwardScratch& s, int first_position) const {
  const std::int64_t n = s.q.rows(), d = config_.d_model, q_dim = config_.q_dim(), kv_dim = config_.kv_dim();
  // visible_keys, row_keys_read and reused_rows: filled by attend (begin/row_read/finish_attention).
  r.keys_read = 0;
  for (int count : r.row_keys_read) r.keys_read += count;
  r.computed_rows.clear();
  for (int p = first_position; p < first_position + n; ++p) r.computed_rows.push_back(p);
  const std::int64_t matrices = mlp_matrices(config_.traits().mlp);
  r.macs.qkv = n * d * (q_dim + (config_.mla() ? config_.cache_key_dim() : 2 * kv_dim));
  r.rebuilt_rows.clear();
  if (config_.mla()) {
    r.rebuilt_rows = s.rebuilt;
    r.macs.rebuild = std::int64_t(s.rebuilt.size()) * config_.kv_lora_rank * (config_.n_head * config_.qk_nope_dim() + q_dim);
  }
  r.macs.scores = r.keys_read * q_dim;
  r.macs.weighted_values = r.keys_read * q_dim;
  r.macs.out_proj = n * q_dim * d;
  r.macs.mlp = n * matrices * d * config_.d_ff();
  if (with_rows) {
    r.keys = s.k;
    r.values = s.v;
    r.query = s.q.row(n - 1);
    // A call long enough that its weights were not kept exact keeps no more than the rows the panes draw:
    // every query row and the unrotated keys (the query and rotation checks' inputs) would triple it.
    const bool long_call = !r.pooled.empty() && r.attention.empty();
    r.queries = long_call ? Matrix() : s.q;
    r.keys_unrotated = config_.rotary() && !config_.mla() && !long_call ? s.k_unrotated : Matrix();
    if (config_.mla()) {
      r.latent_rows = s.latent;
      r.rebuilt_keys.resize(Eigen::Index(s.rebuilt.size()), q_dim);
      r.rebuilt_values.resize(Eigen::Index(s.rebuilt.size()), q_dim);
      for (std::size_t i = 0; i < s.rebuilt.size(); ++i) {
        r.rebuilt_keys.row(Eigen::Index(i)) = s.k_rebuilt.row(s.rebuilt[i]);
        r.rebuilt_values.row(Eigen::Index(i)) = s.v_rebuilt.row(s.rebuilt[i]);
      }
    }
  }
}

void Model::run_stack(const std::vector<int>& tokens, KvRows& cache, int window, ForwardRecord* record,
                      ForwardScratch& s) const {
  assert(!tokens.empty() && "a forward call feeds at least one token");
  const int first = cache.next_position(), n = int(tokens.size()), d = config_.d_model;
  s.x.resize(n, d);
  for (int i = 0; i < n; ++i) {
    const int id = tokens[i];
    if (id < 0 || id >= config_.vocab_size)
      throw DataError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                      std::to_string(config_.vocab_size - 1) + ")");
    weights_->token_embedding.widen_row(id, s.x.row(i).data());
    if (config_.embed_scale > 0.0f) s.x.row(i) *= config_.embed_scale;
    if (config_.rotary()) continue;  // rotary positions enter at q and k, not here
    assert(first + i < config_.context_length && "learned positions end at the context length; the session refuses first");
    s.position_row.resize(d);
    weights_->position_embedding.widen_row(first + i, s.position_row.data());
    s.x.row(i) += s.position_row;
  }
  round(s.x);

  // Positions each layer held before the call (any KV head), to tell what the call evicted.
  std::vector<std::vector<int>> held_before;
  if (record)
    for (int l = 0; l < config_.n_layer; ++l) held_before.push_back(held_union(cache, l, config_.kv_heads()));
  if (record) {
    record->query_begin = first;
    record->key_end = first + n;
    record->layers.assign(config_.n_layer, LayerRecord());
    record->kv_head_of_query.clear();
    for (int h = 0; h < config_.n_head; ++h) record->kv_head_of_query.push_back(config_.kv_head_of(h));
  }
  for (int l = 0; l < config_.n_layer; ++l) run_layer(l, s, first, cache, window, record);
  cache.advance(n);

  if (record) {
    // Positions held before (or written now) that the cache no longer holds (a ring's oldest), and
    // what it holds now.
    for (int l = 0; l < config_.n_layer; ++l) {
      LayerRecord& r = record->layers[l];
      r.held_rows = held_union(cache, l, config_.kv_heads());
      r.evicted_rows.clear();
      std::vector<int> before = held_before[std::size_t(l)];
      for (int p = first; p < first + n; ++p) before.push_back(p);
      std::set_difference(before.begin(), before.end(), r.held_rows.begin(), r.held_rows.end(),
                          std::back_inserter(r.evicted_rows));
    }
    record->output_head_macs = std::int64_t(d) * config_.vocab_size;
  }
}

void Model::head_logits(const Matrix& rows, ForwardScratch& s) const {
  pre_norm(rows, weights_->ln_f_gamma, weights_->ln_f_beta, s.normed);
  project(s.normed, weights_->output_head(), nullptr, s.out);
  const float cap = config_.final_softcap;
  if (cap > 0.0f) {
    s.out = (cap * (s.out.array() / cap).tanh()).matrix();
    round(s.out);
  }
}

void Model::forward_cached(const std::vector<int>& tokens, KvRows& cache, int window, RowVector& logits,
                           ForwardRecord* record, ForwardScratch* scratch) const {
  ForwardScratch local;
  ForwardScratch& s = scratch ? *scratch : local;
  run_stack(tokens, cache, window, record, s);
  // logits = FinalNorm(newest row) W_head^T.
  s.last = s.x.bottomRows(1);
  head_logits(s.last, s);
  logits = s.out.row(0);
}

void Model::forward_cached_all(const std::vector<int>& tokens, KvRows& cache, int window, Matrix& logits,
                               ForwardRecord* record, ForwardScratch* scratch) const {
  ForwardScratch local;
  ForwardScratch& s = scratch ? *scratch : local;
  run_stack(tokens, cache, window, record, s);
  if (record) record->output_head_macs = std::int64_t(config_.d_model) * config_.vocab_size * std::int64_t(tokens.size());
  head_logits(s.x, s);
  logits = s.out;
}

void Model::forward_uncached(const std::vector<int>& tokens, int window, RowVector& logits,
                             ForwardRecord* record) const {
  // A scratch cache as long as the sequence: nothing is evicted, the windows (the model-wide one and
  // local layers' own) act as masks only.
  ModelConfig scratch_shape = config_;
  scratch_shape.context_length = int(tokens.size());
  scratch_shape.layer_windows.clear();
  KvCache scratch(scratch_shape, 0);
  forward_cached(tokens, scratch, window, logits, record);
  if (record)
    for (LayerRecord& l : record->layers) {
      l.evicted_rows.clear();
      l.held_rows.clear();
    }
}

std::shared_ptr<const Model> with_numerics(std::shared_ptr<const Model> model, Numerics numerics) {
  if (model->numerics() == numerics) return model;
  auto copy = std::make_shared<Model>(*model);
  copy->set_numerics(numerics);
  return copy;
}

}  // namespace kvscope
