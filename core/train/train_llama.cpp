// The Llama family's training graph: forward with every activation saved, and the backward pass
// written out by hand. Same arithmetic as core/engine/forward/model.cpp (the tests compare the logits):
//   x0 = wte[token]; per block: n = RMSNorm(x) g1; q = n Wq^T, k = n Wk^T, v = n Wv^T; q and k rotated
//   to their position; causal softmax attention, query head h reading K/V head h / (H / KV);
//   x += attn Wo^T; m = RMSNorm(x) g2; x += (silu(m Wg^T) * (m Wu^T)) Wd^T; logits = RMSNorm(x) gf wte^T.
// Multi-head latent attention (c.mla(), as core/engine/forward/model_mla.cpp): c = n Wdkv^T, k_rope = rope(n Wkr^T),
//   K_h = [c Wuk_h^T | k_rope], V = c Wuv^T, q's last rope dims per head rotated; then the same attention.
#include <cassert>
#include <cmath>
#include <string>

#include "core/engine/kernels/error.h"
#include "core/engine/model/rope.h"
#include "core/train/train_graph.h"

namespace kvscope {

namespace {

// y = xhat * g with xhat = x * rstd, rstd = 1 / sqrt(mean(x^2) + eps).
template <typename Scalar>
void rms_norm_forward(const MatrixT<Scalar>& x, const Scalar* params, std::int64_t gain, Scalar eps,
                      MatrixT<Scalar>& xhat, VectorT<Scalar>& rstd, MatrixT<Scalar>& out) {
  const int n = int(x.rows()), d = int(x.cols());
  rstd.resize(n);
  xhat.resize(n, d);
  for (int r = 0; r < n; ++r) {
    rstd[r] = Scalar(1) / std::sqrt(x.row(r).squaredNorm() / Scalar(d) + eps);
    xhat.row(r) = x.row(r) * rstd[r];
  }
  out = (xhat.array().rowwise() * view(params, gain, d).transpose().array()).matrix();
}

// dg += sum_t dy * xhat; dxhat = dy * g; dx = rstd * (dxhat - xhat * mean(dxhat * xhat)).
template <typename Scalar>
void rms_norm_backward(const MatrixT<Scalar>& d_out, const MatrixT<Scalar>& xhat, const VectorT<Scalar>& rstd,
                       const Scalar* params, Scalar* grads, std::int64_t gain, MatrixT<Scalar>& d_x) {
  const int d = int(xhat.cols());
  view(grads, gain, d) += (d_out.array() * xhat.array()).colwise().sum().transpose().matrix();
  const MatrixT<Scalar> d_xhat = (d_out.array().rowwise() * view(params, gain, d).transpose().array()).matrix();
  d_x.resize(xhat.rows(), d);
  for (Eigen::Index r = 0; r < xhat.rows(); ++r)
    d_x.row(r) = rstd[r] * (d_xhat.row(r) - xhat.row(r) * (d_xhat.row(r).dot(xhat.row(r)) / Scalar(d)));
}

// Rotate-half on every head of every row, row t to position t; sign -1 rotates back (the transpose,
// which is the backward of a rotation). Head h's rotated dims are columns h * stride + offset ..
// + dims (Llama: the whole head; MLA: its last qk_rope_dim). cos/sin in double, as inference has them.
template <typename Scalar>
void rotate_rows(MatrixT<Scalar>& x, int n_heads, int stride, int offset, int dims, const std::vector<double>& inv_freq,
                 double sign) {
  const int half = dims / 2;
  for (Eigen::Index t = 0; t < x.rows(); ++t)
    for (int i = 0; i < half; ++i) {
      const double angle = sign * double(t) * inv_freq[i];
      const Scalar c = Scalar(std::cos(angle)), s = Scalar(std::sin(angle));
      for (int h = 0; h < n_heads; ++h) {
        Scalar& a = x(t, h * stride + offset + i);
        Scalar& b = x(t, h * stride + offset + i + half);
        const Scalar a0 = a, b0 = b;
        a = a0 * c - b0 * s;
        b = b0 * c + a0 * s;
      }
    }
}

// Causal softmax attention with grouped K/V heads: a.attention[h] [T, T], a.mixed [T, q_dim].
template <typename Scalar>
void gqa_forward(const ModelConfig& c, LayerActivations<Scalar>& a) {
  const int n = int(a.q.rows()), hd = c.d_head();
  const Scalar scale = Scalar(1) / std::sqrt(Scalar(hd));
  a.attention.resize(c.n_head);
  a.mixed.resize(n, c.q_dim());
  for (int h = 0; h < c.n_head; ++h) {
    const int g = c.kv_head_of(h);
    MatrixT<Scalar>& p = a.attention[h];
    p.noalias() = scale * a.q.block(0, h * hd, n, hd) * a.k.block(0, g * hd, n, hd).transpose();
    for (int i = 0; i < n; ++i) {
      const Scalar max_score = p.row(i).head(i + 1).maxCoeff();
      p.row(i).head(i + 1) = (p.row(i).head(i + 1).array() - max_score).exp();
      p.row(i).head(i + 1) /= p.row(i).head(i + 1).sum();
      p.row(i).tail(n - i - 1).setZero();
    }
    a.mixed.block(0, h * hd, n, hd).noalias() = p * a.v.block(0, g * hd, n, hd);
  }
}

// Per query head h on K/V head g: dV_g += P^T dO, dS = P * (dO V^T - rowsum), dQ_h = scale dS K_g,
// dK_g += scale dS^T Q_h. A K/V head's gradient sums over the query heads that read it.
template <typename Scalar>
void gqa_backward(const ModelConfig& c, const LayerActivations<Scalar>& a, const MatrixT<Scalar>& d_mixed,
                  MatrixT<Scalar>& d_q, MatrixT<Scalar>& d_k, MatrixT<Scalar>& d_v) {
  const int n = int(a.q.rows()), hd = c.d_head();
  const Scalar scale = Scalar(1) / std::sqrt(Scalar(hd));
  d_q.setZero(n, c.q_dim());
  d_k.setZero(n, c.kv_dim());
  d_v.setZero(n, c.kv_dim());
  for (int h = 0; h < c.n_head; ++h) {
    const int g = c.kv_head_of(h);
    const MatrixT<Scalar>& p = a.attention[h];
    const auto d_o = d_mixed.block(0, h * hd, n, hd);
    d_v.block(0, g * hd, n, hd).noalias() += p.transpose() * d_o;
    MatrixT<Scalar> d_s = d_o * a.v.block(0, g * hd, n, hd).transpose();
    const VectorT<Scalar> row_dot = (p.array() * d_s.array()).rowwise().sum();
    d_s = (p.array() * (d_s.array().colwise() - row_dot.array())).matrix();
    d_q.block(0, h * hd, n, hd).noalias() = scale * d_s * a.k.block(0, g * hd, n, hd);
    d_k.block(0, g * hd, n, hd).noalias() += scale * d_s.transpose() * a.q.block(0, h * hd, n, hd);
  }
}

template <typename Scalar>
MatrixT<Scalar> project(const MatrixT<Scalar>& x, const Scalar* params, std::int64_t weight, int n_out) {
  return x * view(params, weight, n_out, int(x.cols())).transpose();
}

// y = x W^T: dW += dy^T x; returns dx = dy W.
template <typename Scalar>
MatrixT<Scalar> project_backward(const MatrixT<Scalar>& d_y, const MatrixT<Scalar>& x, const Scalar* params,
                                 Scalar* grads, std::int64_t weight) {
  const int n_out = int(d_y.cols()), n_in = int(x.cols());
  view(grads, weight, n_out, n_in).noalias() += d_y.transpose() * x;
  return d_y * view(params, weight, n_out, n_in);
}

// MLA's Q, K, V (K and V rebuilt from the latent, one K/V head per query head) into a.q, a.k, a.v.
template <typename Scalar>
void mla_project(const ModelConfig& c, const LayerSlots& s, const Scalar* params, const std::vector<double>& inv_freq,
                 LayerActivations<Scalar>& a) {
  const int hd = c.d_head(), nope = c.qk_nope_dim(), rope = c.qk_rope_dim;
  a.q = project(a.ln_1_out, params, s.attn_q, c.q_dim());
  rotate_rows(a.q, c.n_head, hd, nope, rope, inv_freq, 1.0);
  a.latent = project(a.ln_1_out, params, s.attn_kv_down, c.kv_lora_rank);
  MatrixT<Scalar> k_rope = project(a.ln_1_out, params, s.attn_k_rope, rope);
  rotate_rows(k_rope, 1, rope, 0, rope, inv_freq, 1.0);
  const MatrixT<Scalar> k_nope = project(a.latent, params, s.attn_k_up, c.n_head * nope);
  a.k.resize(a.q.rows(), c.q_dim());
  for (int h = 0; h < c.n_head; ++h) {
    a.k.middleCols(h * hd, nope) = k_nope.middleCols(h * nope, nope);
    a.k.middleCols(h * hd + nope, rope) = k_rope;
  }
  a.v = project(a.latent, params, s.attn_v_up, c.q_dim());
}

// The reverse of mla_project: returns d(normed input). The shared rotated key sums every head's gradient.
template <typename Scalar>
MatrixT<Scalar> mla_project_backward(const ModelConfig& c, const LayerSlots& s, const Scalar* params,
                                     const std::vector<double>& inv_freq, const LayerActivations<Scalar>& a,
                                     MatrixT<Scalar>& d_q, const MatrixT<Scalar>& d_k, const MatrixT<Scalar>& d_v,
                                     Scalar* grads) {
  const int n = int(d_k.rows()), hd = c.d_head(), nope = c.qk_nope_dim(), rope = c.qk_rope_dim;
  MatrixT<Scalar> d_k_nope(n, c.n_head * nope), d_k_rope = MatrixT<Scalar>::Zero(n, rope);
  for (int h = 0; h < c.n_head; ++h) {
    d_k_nope.middleCols(h * nope, nope) = d_k.middleCols(h * hd, nope);
    d_k_rope += d_k.middleCols(h * hd + nope, rope);
  }
  MatrixT<Scalar> d_latent = project_backward(d_v, a.latent, params, grads, s.attn_v_up);
  d_latent += project_backward(d_k_nope, a.latent, params, grads, s.attn_k_up);
  rotate_rows(d_k_rope, 1, rope, 0, rope, inv_freq, -1.0);
  rotate_rows(d_q, c.n_head, hd, nope, rope, inv_freq, -1.0);
  MatrixT<Scalar> d_norm = project_backward(d_q, a.ln_1_out, params, grads, s.attn_q);
  d_norm += project_backward(d_latent, a.ln_1_out, params, grads, s.attn_kv_down);
  d_norm += project_backward(d_k_rope, a.ln_1_out, params, grads, s.attn_k_rope);
  return d_norm;
}

template <typename Scalar>
void block_forward(const ModelConfig& c, const LayerSlots& s, const Scalar* params, const std::vector<double>& inv_freq,
                   LayerActivations<Scalar>& a, MatrixT<Scalar>& x_out) {
  const Scalar eps = Scalar(c.layer_norm_eps);
  rms_norm_forward(a.x_in, params, s.ln_1_gamma, eps, a.ln_1_xhat, a.ln_1_rstd, a.ln_1_out);
  if (c.mla()) {
    mla_project(c, s, params, inv_freq, a);
  } else {
    a.q = project(a.ln_1_out, params, s.attn_q, c.q_dim());
    a.k = project(a.ln_1_out, params, s.attn_k, c.kv_dim());
    a.v = project(a.ln_1_out, params, s.attn_v, c.kv_dim());
    rotate_rows(a.q, c.n_head, c.d_head(), 0, c.d_head(), inv_freq, 1.0);
    rotate_rows(a.k, c.kv_heads(), c.d_head(), 0, c.d_head(), inv_freq, 1.0);
  }
  gqa_forward(c, a);
  a.x_mid = a.x_in + project(a.mixed, params, s.attn_proj, c.d_model);
  rms_norm_forward(a.x_mid, params, s.ln_2_gamma, eps, a.ln_2_xhat, a.ln_2_rstd, a.ln_2_out);
  a.fc = project(a.ln_2_out, params, s.mlp_gate, c.d_ff());
  a.up = project(a.ln_2_out, params, s.mlp_up, c.d_ff());
  a.gelu = (a.fc.array() / (Scalar(1) + (-a.fc.array()).exp()) * a.up.array()).matrix();  // silu(gate) * up
  x_out = a.x_mid + project(a.gelu, params, s.mlp_proj, c.d_model);
}

// One block in reverse; d_x: gradient of the block's output in, of its input out.
template <typename Scalar>
void block_backward(const ModelConfig& c, const LayerSlots& s, const Scalar* params, const std::vector<double>& inv_freq,
                    const LayerActivations<Scalar>& a, Scalar* grads, MatrixT<Scalar>& d_x) {
  MatrixT<Scalar> d_res;
  // x_out = x_mid + Wd h, h = silu(g) * u: dh = dx Wd; du = dh silu(g); dg = dh u silu'(g),
  // silu'(g) = sigma(g) (1 + g (1 - sigma(g))).
  const MatrixT<Scalar> d_h = project_backward(d_x, a.gelu, params, grads, s.mlp_proj);
  const auto sigma = (Scalar(1) / (Scalar(1) + (-a.fc.array()).exp())).eval();
  const MatrixT<Scalar> d_up = (d_h.array() * a.fc.array() * sigma).matrix();
  const MatrixT<Scalar> d_gate =
      (d_h.array() * a.up.array() * sigma * (Scalar(1) + a.fc.array() * (Scalar(1) - sigma))).matrix();
  MatrixT<Scalar> d_norm = project_backward(d_gate, a.ln_2_out, params, grads, s.mlp_gate);
  d_norm += project_backward(d_up, a.ln_2_out, params, grads, s.mlp_up);
  rms_norm_backward(d_norm, a.ln_2_xhat, a.ln_2_rstd, params, grads, s.ln_2_gamma, d_res);
  d_x += d_res;  // now d x_mid
  // x_mid = x_in + attn Wo^T; q, k rotated after projection, so their gradients rotate back.
  const MatrixT<Scalar> d_mixed = project_backward(d_x, a.mixed, params, grads, s.attn_proj);
  MatrixT<Scalar> d_q, d_k, d_v;
  gqa_backward(c, a, d_mixed, d_q, d_k, d_v);
  if (c.mla()) {
    d_norm = mla_project_backward(c, s, params, inv_freq, a, d_q, d_k, d_v, grads);
  } else {
    rotate_rows(d_q, c.n_head, c.d_head(), 0, c.d_head(), inv_freq, -1.0);
    rotate_rows(d_k, c.kv_heads(), c.d_head(), 0, c.d_head(), inv_freq, -1.0);
    d_norm = project_backward(d_q, a.ln_1_out, params, grads, s.attn_q);
    d_norm += project_backward(d_k, a.ln_1_out, params, grads, s.attn_k);
    d_norm += project_backward(d_v, a.ln_1_out, params, grads, s.attn_v);
  }
  rms_norm_backward(d_norm, a.ln_1_xhat, a.ln_1_rstd, params, grads, s.ln_1_gamma, d_res);
  d_x += d_res;  // now d x_in
}

}  // namespace

template <typename Scalar>
double llama_forward_sequence(const ParameterLayout& layout, const Scalar* params, const std::vector<int>& inputs,
                              const std::vector<int>& targets, SequenceActivations<Scalar>& acts) {
  const ModelConfig& c = layout.config;
  const int n = int(inputs.size()), d = c.d_model;
  assert(n >= 1 && targets.size() == inputs.size() && "one target per input position");
  for (int i = 0; i < n; ++i) {
    if (inputs[i] < 0 || inputs[i] >= c.vocab_size)
      throw DataError("token id " + std::to_string(inputs[i]) + " is outside the vocabulary");
    if (targets[i] < -1 || targets[i] >= c.vocab_size)
      throw DataError("target id " + std::to_string(targets[i]) + " is outside the vocabulary");
  }
  const std::vector<double> inv_freq = rope_inverse_frequencies(c);
  acts.inputs = inputs;
  acts.layers.resize(c.n_layer);
  const auto wte = view(params, layout.wte, c.vocab_size, d);
  MatrixT<Scalar>& x0 = acts.layers[0].x_in;  // token embeddings only: positions enter at q and k
  x0.resize(n, d);
  for (int t = 0; t < n; ++t) x0.row(t) = wte.row(inputs[t]);
  for (int l = 0; l < c.n_layer; ++l) {
    MatrixT<Scalar>& out = l + 1 < c.n_layer ? acts.layers[l + 1].x_in : acts.x_out;
    block_forward(c, layout.layers[l], params, inv_freq, acts.layers[l], out);
  }
  rms_norm_forward(acts.x_out, params, layout.ln_f_gamma, Scalar(c.layer_norm_eps), acts.ln_f_xhat, acts.ln_f_rstd,
                   acts.ln_f_out);
  acts.logits.noalias() = acts.ln_f_out * wte.transpose();  // tied head
  return softmax_cross_entropy(acts.logits, targets, acts.probs);
}

template <typename Scalar>
void llama_backward_sequence(const ParameterLayout& layout, const Scalar* params, const SequenceActivations<Scalar>& acts,
                             const std::vector<int>& targets, Scalar loss_scale, Scalar* grads) {
  const ModelConfig& c = layout.config;
  const int n = int(acts.inputs.size()), d = c.d_model;
  const std::vector<double> inv_freq = rope_inverse_frequencies(c);
  const MatrixT<Scalar> d_logits = cross_entropy_gradient(acts.probs, targets, loss_scale);
  view(grads, layout.wte, c.vocab_size, d).noalias() += d_logits.transpose() * acts.ln_f_out;  // tied head
  const MatrixT<Scalar> d_ln_f = d_logits * view(params, layout.wte, c.vocab_size, d);
  MatrixT<Scalar> d_x;
  rms_norm_backward(d_ln_f, acts.ln_f_xhat, acts.ln_f_rstd, params, grads, layout.ln_f_gamma, d_x);
  for (int l = c.n_layer - 1; l >= 0; --l) block_backward(c, layout.layers[l], params, inv_freq, acts.layers[l], grads, d_x);
  auto d_wte = view(grads, layout.wte, c.vocab_size, d);
  for (int t = 0; t < n; ++t) d_wte.row(acts.inputs[t]) += d_x.row(t);
}

template double llama_forward_sequence<float>(const ParameterLayout&, const float*, const std::vector<int>&,
                                              const std::vector<int>&, SequenceActivations<float>&);
template double llama_forward_sequence<double>(const ParameterLayout&, const double*, const std::vector<int>&,
                                               const std::vector<int>&, SequenceActivations<double>&);
template void llama_backward_sequence<float>(const ParameterLayout&, const float*, const SequenceActivations<float>&,
                                             const std::vector<int>&, float, float*);
template void llama_backward_sequence<double>(const ParameterLayout&, const double*, const SequenceActivations<double>&,
                                              const std::vector<int>&, double, double*);

}  // namespace kvscope
