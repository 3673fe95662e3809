#include "core/lessons/lesson_checks.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/engine/kernels/error.h"
#include "core/engine/model/rope.h"
#include "core/engine/kernels/random.h"
#include "core/engine/kernels/softmax.h"
#include "core/engine/session/session.h"

namespace kvscope {

namespace {

float max_abs_diff(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& b) {
  assert(a.rows() == b.rows() && a.cols() == b.cols() && "compared blocks have one shape");
  if (a.size() == 0) return 0.0f;
  return (a - b).cwiseAbs().maxCoeff();
}

enum class RowKind { Key, Value, KeyBeforeRotation, Query };

// The row of `position` in a layer as the cached mode computed it (the newest step <= step that
// projected it), or null if it was not recorded.
const float* cached_row(const std::vector<StepTrace>& history, int step, int layer, RowKind kind, int position) {
  for (int s = step; s >= 0; --s) {
    const ModeTrace& m = history[s].cached;
    if (!m.ran || !m.forward.with_rows || layer >= int(m.forward.layers.size())) continue;
    const LayerRecord& l = m.forward.layers[layer];
    const auto it = std::find(l.computed_rows.begin(), l.computed_rows.end(), position);
    if (it == l.computed_rows.end()) continue;
    const int i = int(it - l.computed_rows.begin());
    const Matrix& rows = kind == RowKind::Value ? l.values : kind == RowKind::Key ? l.keys
                         : kind == RowKind::Query ? l.queries : l.keys_unrotated;
    return i < rows.rows() ? rows.row(i).data() : nullptr;
  }
  return nullptr;
}

double cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

float max_abs_diff(const float* a, const float* b, int n) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace

Matrix attention_outputs(const ModelConfig& config, int layer, int model_window, const Matrix& queries,
                         const Matrix& keys, const Matrix& values, int query_begin, Matrix* newest_weights) {
  const int n = int(queries.rows()), d = int(queries.cols()), n_head = config.n_head, d_head = d / n_head;
  const int n_keys = int(keys.rows()), n_kv_head = int(keys.cols()) / d_head;
  assert(query_begin + n <= n_keys && "every query position has its own key row");
  // The model's own scale, softcap and this layer's window.
  const float scale = config.score_scale(), cap = config.attn_softcap;
  const int window = config.effective_window(layer, model_window);
  Matrix out = Matrix::Zero(n, d);
  std::vector<float> w(std::size_t(std::max(1, n_keys)));
  if (newest_weights) newest_weights->setZero(n_head, n_keys);
  for (int i = 0; i < n; ++i) {
    const KeySpan span = visible_span(query_begin + i, window);
    for (int h = 0; h < n_head; ++h) {
      // Query head h reads K/V head h / (n_head / n_kv_head) (grouped-query attention).
      const int off = h * d_head, kv_off = h / (n_head / n_kv_head) * d_head;
      Eigen::Map<const Vector> q(queries.row(i).data() + off, d_head);
      for (int k = span.first; k <= span.last; ++k) {
        w[k] = scale * q.dot(Eigen::Map<const Vector>(keys.row(k).data() + kv_off, d_head));
        if (cap > 0.0f) w[k] = cap * std::tanh(w[k] / cap);
      }
      const std::vector<double> p = softmax_double(w.data() + span.first, span.size());
      Eigen::Map<Vector> o(out.row(i).data() + off, d_head);
      for (int k = span.first; k <= span.last; ++k) {
        w[k] = float(p[std::size_t(k - span.first)]);
        o += w[k] * Eigen::Map<const Vector>(values.row(k).data() + kv_off, d_head);
      }
      if (newest_weights && i == n - 1)
        for (int k = span.first; k <= span.last; ++k) (*newest_weights)(h, k) = w[k];
    }
  }
  return out;
}

bool cached_rows(const std::vector<StepTrace>& history, int step, int layer, bool values, int n, Matrix& out) {
  for (int p = 0; p < n; ++p) {
    const float* row = cached_row(history, step, layer, values ? RowKind::Value : RowKind::Key, p);
    if (!row) return false;
    const int d = int(values ? history[step].cached.forward.layers[layer].values.cols()
                             : history[step].cached.forward.layers[layer].keys.cols());
    if (p == 0) out.resize(n, d);
    out.row(p) = Eigen::Map<const RowVector>(row, d);
  }
  return n > 0;
}

std::vector<QueryRowCheck> check_query_rows(const std::vector<StepTrace>& history, int step, const ModelConfig& config) {
  const StepTrace& t = history[step];
  std::vector<QueryRowCheck> checks;
  if (!t.both_ran() || !t.uncached.forward.with_rows) return checks;
  const int n = t.position_end, newest = t.newest_position(), n_head = config.n_head;
  for (int l = 0; l < int(t.uncached.forward.layers.size()); ++l) {
    const LayerRecord& u = t.uncached.forward.layers[l];
    if (u.queries.rows() != n || u.keys.rows() != n || u.values.rows() != n) return {};
    QueryRowCheck c;
    c.layer = l;
    c.n_query_rows = n;
    Matrix weights;
    const Matrix full = attention_outputs(config, l, t.window, u.queries, u.keys, u.values, 0, &weights);
    const Matrix single = attention_outputs(config, l, t.window, u.queries.bottomRows(1), u.keys, u.values, newest);
    c.full_vs_single = max_abs_diff(full.bottomRows(1), single);
    // Older query rows replaced by random numbers of the same size as the real ones.
    Matrix noisy = u.queries;
    SplitMix64 rng(0x51ED + std::uint64_t(l));
    const float spread = u.queries.cwiseAbs().maxCoeff() + 1.0f;
    for (int i = 0; i + 1 < n; ++i)
      for (int j = 0; j < noisy.cols(); ++j) noisy(i, j) = spread * rng.normal();
    const Matrix perturbed = attention_outputs(config, l, t.window, noisy, u.keys, u.values, 0);
    c.older_rows_perturbed = max_abs_diff(perturbed.bottomRows(1), full.bottomRows(1));
    c.older_outputs_moved = n > 1 ? max_abs_diff(perturbed.topRows(n - 1), full.topRows(n - 1)) : 0.0f;
    if (int(u.newest_attention.size()) == n_head) {
      c.recomputed_vs_model = 0.0f;
      for (int h = 0; h < n_head; ++h)
        c.recomputed_vs_model = std::max(c.recomputed_vs_model, max_abs_diff(weights.row(h), u.newest_attention[h]));
    }
    const LayerRecord& cr = t.cached.forward.layers[l];
    if (int(cr.newest_attention.size()) == n_head && int(u.newest_attention.size()) == n_head) {
      c.cached_vs_uncached_weights = 0.0f;
      for (int h = 0; h < n_head; ++h)
        c.cached_vs_uncached_weights =
            std::max(c.cached_vs_uncached_weights, max_abs_diff(cr.newest_attention[h], u.newest_attention[h]));
    }
    Matrix keys, values;
    if (cr.query.size() == u.queries.cols() && cached_rows(history, step, l, false, n, keys) &&
        cached_rows(history, step, l, true, n, values)) {
      const Matrix q = cr.query;  // [1, d]: the only query row the cached path has
      c.cached_vs_uncached_output = max_abs_diff(attention_outputs(config, l, t.window, q, keys, values, newest),
                                                 full.bottomRows(1));
    }
    checks.push_back(c);
  }
  return checks;
}

namespace {
// Rotary positions: layer 0's two K rows before rotation come from the same token row, and after
// rotation the later one is the earlier one turned by their distance.
void check_rotated_keys(const ModelConfig& config, const std::vector<StepTrace>& history, int step, SameWordCheck& c) {
  const int d = config.kv_dim();
  const float* u1 = cached_row(history, step, 0, RowKind::KeyBeforeRotation, c.first);
  const float* u2 = cached_row(history, step, 0, RowKind::KeyBeforeRotation, c.second);
  const float* k1 = cached_row(history, step, 0, RowKind::Key, c.first);
  const float* k2 = cached_row(history, step, 0, RowKind::Key, c.second);
  if (!u1 || !u2 || !k1 || !k2) return;
  c.rotary = true;
  c.unrotated_max_diff = max_abs_diff(u1, u2, d);
  c.key_unrotated_first = Eigen::Map<const RowVector>(u1, d);
  c.key_unrotated_second = Eigen::Map<const RowVector>(u2, d);
  RowVector turned = Eigen::Map<const RowVector>(k1, d);
  apply_rope(turned.data(), config.kv_heads(), config.d_head(), c.second - c.first,
             rope_inverse_frequencies(config, config.layer_local(0)));  // a local layer 0 turns at its own base
  c.rotation_residual = max_abs_diff(turned.data(), k2, d);
  c.rotated_max_diff = max_abs_diff(k1, k2, d);
  const float* q1 = cached_row(history, step, 0, RowKind::Query, c.first);
  const float* q2 = cached_row(history, step, 0, RowKind::Query, c.second);
  if (!q1 || !q2) return;
  const int dh = config.d_head(), q_off = 0, k_off = config.kv_head_of(0) * dh;  // query head 0
  auto score = [&](const float* q, const float* k) {
    double s = 0.0;
    for (int i = 0; i < dh; ++i) s += double(q[q_off + i]) * double(k[k_off + i]);
    return s / std::sqrt(double(dh));
  };
  c.score_first = score(q1, k1);
  c.score_second = score(q2, k2);
  c.score_across = score(q2, k1);
  c.relative_checked = true;
}
}  // namespace

SameWordCheck check_same_word(const Model& model, const std::vector<StepTrace>& history, int step,
                              const std::string& word) {
  const StepTrace& t = history[step];
  SameWordCheck c;
  const int n = std::min<int>(t.position_end, int(t.context_ids.size()));
  for (int p = 0; p < n && c.second < 0; ++p) {
    const bool wanted = word.empty() || (p < int(t.context_texts.size()) && t.context_texts[p] == word);
    if (!wanted) continue;
    if (c.first < 0 && word.empty()) {
      for (int q = p + 1; q < n; ++q)
        if (t.context_ids[q] == t.context_ids[p]) {
          c.first = p;
          c.second = q;
          break;
        }
    } else if (c.first < 0) {
      c.first = p;
    } else if (t.context_ids[p] == t.context_ids[c.first]) {
      c.second = p;
    }
  }
  if (c.first < 0 || c.second < 0) return SameWordCheck{};
  c.token_id = t.context_ids[c.first];
  c.word = c.first < int(t.context_texts.size()) ? t.context_texts[c.first] : std::to_string(c.token_id);
  const int d = model.config().kv_dim();  // K and V rows: KV heads x d_head
  for (int l = 0; l < model.config().n_layer; ++l) {
    const float* k1 = cached_row(history, step, l, RowKind::Key, c.first);
    const float* k2 = cached_row(history, step, l, RowKind::Key, c.second);
    const float* v1 = cached_row(history, step, l, RowKind::Value, c.first);
    const float* v2 = cached_row(history, step, l, RowKind::Value, c.second);
    if (!k1 || !k2 || !v1 || !v2) return SameWordCheck{};
    RowPairCheck pair{l, float(cosine(k1, k2, d)), max_abs_diff(k1, k2, d), float(cosine(v1, v2, d)),
                      max_abs_diff(v1, v2, d), {}, {}, {}, {}};
    pair.key_first = Eigen::Map<const RowVector>(k1, d);
    pair.key_second = Eigen::Map<const RowVector>(k2, d);
    pair.value_first = Eigen::Map<const RowVector>(v1, d);
    pair.value_second = Eigen::Map<const RowVector>(v2, d);
    c.layers.push_back(std::move(pair));
  }
  c.found = true;
  if (model.config().rotary()) {
    check_rotated_keys(model.config(), history, step, c);
    return c;
  }
  const ModelWeights& w = model.weights();
  const RowVector token = w.token_embedding.row(c.token_id);
  const RowVector pe1 = w.position_embedding.row(c.first);
  const RowVector pe2 = w.position_embedding.row(c.second);
  const RowVector x1 = token + pe1, x2 = token + pe2;  // as Model::forward_cached adds them
  const RowVector pe_diff = pe1 - pe2;
  c.input_vs_position_exact = 0.0;
  for (int i = 0; i < d; ++i) {
    const double a = token[i], b1 = pe1[i], b2 = pe2[i];
    c.input_vs_position_exact = std::max(c.input_vs_position_exact, std::abs(((a + b1) - (a + b2)) - (b1 - b2)));
  }
  c.input_vs_position_float = ((x1 - x2) - pe_diff).cwiseAbs().maxCoeff();
  c.position_diff_max = pe_diff.cwiseAbs().maxCoeff();
  c.input_diff = x1 - x2;
  c.position_diff = pe_diff;
  return c;
}

namespace {
// Why a session could not run steps 0..step ("" when it can).
std::string hard_stop_message(const LoadedModel& model, const std::vector<int>& prompt, const std::vector<int>& forced,
                              int step) {
  SessionOptions options;
  options.window = 0;
  options.run_uncached = false;
  options.record_attention = options.record_rows = false;
  DecodeSession full(model.model, model.tokenizer, options);
  full.start(prompt, forced);  // the lesson's own session accepted the same prompt
  return full.why_not_steps(step + 1);  // the refusal the window or the CLI would give
}
}  // namespace

ContextCheck check_context(const LoadedModel& model, const std::vector<int>& prompt, const std::vector<int>& forced,
                           const std::vector<StepTrace>& history, int step) {
  const StepTrace& t = history[step];
  ContextCheck c;
  c.window = t.window;
  c.context_length = model.model->config().context_length;
  c.positions = t.position_end;
  if (t.cached.ran && !t.cached.forward.layers.empty()) {
    const LayerRecord& layer0 = t.cached.forward.layers[0];
    c.evicted = layer0.evicted_rows;
    c.first_held = layer0.held_rows.empty() ? t.position_end : layer0.held_rows.front();
  }
  c.cached_vs_uncached = t.both_ran() ? t.max_abs_logit_diff : 0.0f;
  c.rotary = model.model->config().rotary();
  c.full_fits = c.rotary || t.position_end <= c.context_length;  // rotary: full attention runs at any length
  // Learned positions stop at the context, window or not; rotary ones with a window do not.
  if (!(c.rotary && c.window > 0)) c.hard_stop = hard_stop_message(model, prompt, forced, step + 1);
  const RowVector& windowed = t.uncached.ran ? t.uncached.logits : t.cached.logits;
  c.window_top = argmax(windowed);
  if (!c.full_fits) return c;
  RowVector full;
  model.model->forward_uncached(t.context_ids, 0, full, nullptr);
  c.full_top = argmax(full);
  const Divergence d = divergence(full, windowed);
  c.kl_full_windowed = d.kl;
  c.max_prob_diff = double(d.max_abs_prob_diff);
  return c;
}

}  // namespace kvscope
