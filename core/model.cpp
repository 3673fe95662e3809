#include "core/model.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "core/linear.h"

namespace kvscope {

namespace {

// Row-wise LayerNorm: (x - mean) / sqrt(var + eps) * gamma + beta, variance over d_model (biased).
void layer_norm(const Matrix& x, const Vector& gamma, const Vector& beta, float eps, Matrix& out) {
  out.resize(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float mean = x.row(r).mean();
    const float var = (x.row(r).array() - mean).square().mean();
    const float inv = 1.0f / std::sqrt(var + eps);
    out.row(r) = ((x.row(r).array() - mean) * inv * gamma.transpose().array() + beta.transpose().array()).matrix();
  }
}

// GPT-2's tanh approximation of GELU.
void gelu_in_place(Matrix& x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  x = (0.5f * x.array() * (1.0f + (k * (x.array() + 0.044715f * x.array().cube())).tanh())).matrix();
}

}  // namespace

Model::Model(ModelConfig config, ModelWeights weights) : config_(config), weights_(std::move(weights)) {
  validate(config_);
  check_shapes(weights_, config_);
}

void Model::run_layer(int layer, ForwardScratch& s, int first_position, KvCache& cache, int window,
                      LayerRecord* record, bool with_attention, bool with_rows) const {
  Matrix& x = s.x;
  Matrix& qkv = s.qkv;  // [n, 3d]: Q | K | V per row
  const LayerWeights& w = weights_.layers[layer];
  const int n = int(x.rows()), d = config_.d_model, n_head = config_.n_head, d_head = config_.d_head();
  const float scale = 1.0f / std::sqrt(float(d_head));

  layer_norm(x, w.ln_1_gamma, w.ln_1_beta, config_.layer_norm_eps, s.normed);
  linear(s.normed, w.attn_qkv, config_.qkv_bias ? &w.attn_qkv_bias : nullptr, qkv);

  // K or V row of a position: older positions from the cache, new ones from this call's qkv.
  auto key_of = [&](int pos) -> const float* {
    return pos < first_position ? cache.key_row(layer, pos) : qkv.row(pos - first_position).data() + d;
  };
  auto value_of = [&](int pos) -> const float* {
    return pos < first_position ? cache.value_row(layer, pos) : qkv.row(pos - first_position).data() + 2 * d;
  };

  const int key_end = first_position + n;
  if (record && with_attention) record->attention.assign(n_head, Matrix::Zero(n, key_end));
  Matrix& mixed = s.mixed;  // [n, d] attention output, heads side by side
  mixed.setZero(n, d);
  std::vector<float>& weights_row = s.weights_row;
  if (int(weights_row.size()) < key_end) weights_row.resize(std::max<size_t>(key_end, config_.context_length));
  std::int64_t keys_read = 0;
  for (int i = 0; i < n; ++i) {
    const int pos = first_position + i;
    const int lo = window > 0 ? std::max(0, pos - window + 1) : 0;
    keys_read += pos - lo + 1;
    for (int hd = 0; hd < n_head; ++hd) {
      const int off = hd * d_head;
      Eigen::Map<const Vector> q(qkv.row(i).data() + off, d_head);
      float max_score = -INFINITY;
      for (int k = lo; k <= pos; ++k) {
        weights_row[k] = scale * q.dot(Eigen::Map<const Vector>(key_of(k) + off, d_head));
        max_score = std::max(max_score, weights_row[k]);
      }
      float sum = 0.0f;
      for (int k = lo; k <= pos; ++k) sum += (weights_row[k] = std::exp(weights_row[k] - max_score));
      Eigen::Map<Vector> out(mixed.row(i).data() + off, d_head);
      for (int k = lo; k <= pos; ++k) {
        weights_row[k] /= sum;
        out += weights_row[k] * Eigen::Map<const Vector>(value_of(k) + off, d_head);
      }
      if (record && with_attention)
        for (int k = lo; k <= pos; ++k) record->attention[hd](i, k) = weights_row[k];
    }
  }

  if (record) {
    const int reuse_lo = window > 0 ? std::max(0, first_position - window + 1) : 0;
    record->reused_rows.clear();
    for (int p = reuse_lo; p < first_position; ++p) record->reused_rows.push_back(p);
    record->computed_rows.clear();
    for (int p = first_position; p < key_end; ++p) record->computed_rows.push_back(p);
    record->keys_read = keys_read;
    record->macs.qkv = std::int64_t(n) * d * 3 * d;
    record->macs.scores = keys_read * d;
    record->macs.weighted_values = keys_read * d;
    record->macs.out_proj = std::int64_t(n) * d * d;
    record->macs.mlp = std::int64_t(n) * 8 * d * d;
    if (with_rows) {
      record->keys = qkv.middleCols(d, d);
      record->values = qkv.middleCols(2 * d, d);
      record->query = qkv.row(n - 1).head(d);
      record->queries = qkv.leftCols(d);
    }
  }

  // New rows enter the cache only after every query of this call has read what it needs.
  for (int i = 0; i < n; ++i) cache.write(layer, first_position + i, qkv.row(i).data() + d, qkv.row(i).data() + 2 * d);

  linear(mixed, w.attn_proj, &w.attn_proj_bias, s.projected);
  x += s.projected;
  layer_norm(x, w.ln_2_gamma, w.ln_2_beta, config_.layer_norm_eps, s.normed);
  linear(s.normed, w.mlp_fc, &w.mlp_fc_bias, s.hidden);
  gelu_in_place(s.hidden);
  linear(s.hidden, w.mlp_proj, &w.mlp_proj_bias, s.projected);
  x += s.projected;
}

void Model::forward_cached(const std::vector<int>& tokens, KvCache& cache, int window, RowVector& logits,
                           ForwardRecord* record, ForwardScratch* scratch) const {
  assert(!tokens.empty() && "a forward call feeds at least one token");
  ForwardScratch local;
  ForwardScratch& s = scratch ? *scratch : local;
  const int first = cache.next_position(), n = int(tokens.size()), d = config_.d_model;
  Matrix& x = s.x;
  x.resize(n, d);
  for (int i = 0; i < n; ++i) {
    const int id = tokens[i];
    if (id < 0 || id >= config_.vocab_size)
      throw DataError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                      std::to_string(config_.vocab_size - 1) + ")");
    x.row(i) = weights_.token_embedding.row(id) + weights_.position_embedding.row(position_row(first + i));
  }

  const int held_before = cache.first_held();
  if (record) {
    record->query_begin = first;
    record->key_end = first + n;
    record->layers.assign(config_.n_layer, LayerRecord());
  }
  for (int l = 0; l < config_.n_layer; ++l)
    run_layer(l, s, first, cache, window, record ? &record->layers[l] : nullptr,
              record && record->with_attention, record && record->with_rows);
  cache.advance(n);

  if (record) {
    // Positions held before (or written now) that the ring no longer holds.
    std::vector<int> evicted;
    for (int p = held_before; p < cache.first_held(); ++p) evicted.push_back(p);
    for (LayerRecord& l : record->layers) l.evicted_rows = evicted;
    record->output_head_macs = std::int64_t(d) * config_.vocab_size;
  }

  s.last = x.row(n - 1);
  layer_norm(s.last, weights_.ln_f_gamma, weights_.ln_f_beta, config_.layer_norm_eps, s.normed);
  linear(s.normed, weights_.output_head(), nullptr, s.out);
  logits = s.out.row(0);
}

void Model::forward_uncached(const std::vector<int>& tokens, int window, RowVector& logits,
                             ForwardRecord* record) const {
  // A scratch cache as long as the sequence: nothing is evicted, the window acts as a mask only.
  ModelConfig scratch_shape = config_;
  scratch_shape.context_length = int(tokens.size());
  KvCache scratch(scratch_shape, 0);
  forward_cached(tokens, scratch, window, logits, record);
  if (record)
    for (LayerRecord& l : record->layers) l.evicted_rows.clear();
}

}  // namespace kvscope
