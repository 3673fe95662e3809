// Forward pass of the training graph: the same arithmetic as core/model.cpp, every step saved.
#include <cassert>
#include <cmath>
#include <string>

#include "core/engine/kernels/error.h"
#include "core/train/train_graph.h"

namespace kvscope {

namespace {

// Row-wise LayerNorm, variance over d (biased), as in core/model.cpp.
template <typename Scalar>
void layer_norm_forward(const MatrixT<Scalar>& x, const Scalar* params, std::int64_t gamma, std::int64_t beta,
                        Scalar eps, MatrixT<Scalar>& xhat, VectorT<Scalar>& rstd, MatrixT<Scalar>& out) {
  const int n = int(x.rows()), d = int(x.cols());
  xhat.resize(n, d);
  rstd.resize(n);
  for (int r = 0; r < n; ++r) {
    const Scalar mean = x.row(r).mean();
    const Scalar var = (x.row(r).array() - mean).square().mean();
    rstd[r] = Scalar(1) / std::sqrt(var + eps);
    xhat.row(r) = (x.row(r).array() - mean) * rstd[r];
  }
  out = (xhat.array().rowwise() * view(params, gamma, d).transpose().array()).matrix();
  out.rowwise() += view(params, beta, d).transpose();
}

// y = x W^T + b for W stored [out, in].
template <typename Scalar>
void linear_forward(const MatrixT<Scalar>& x, const Scalar* params, std::int64_t weight, std::int64_t bias,
                    int n_out, bool with_bias, MatrixT<Scalar>& y) {
  const int n_in = int(x.cols());
  y.noalias() = x * view(params, weight, n_out, n_in).transpose();
  if (with_bias) y.rowwise() += view(params, bias, n_out).transpose();
}

// GPT-2's tanh approximation of GELU.
template <typename Scalar>
void gelu_forward(const MatrixT<Scalar>& x, MatrixT<Scalar>& y) {
  const Scalar k = Scalar(0.7978845608028654);  // sqrt(2 / pi)
  const Scalar c = Scalar(0.044715);
  y = (Scalar(0.5) * x.array() * (Scalar(1) + (k * (x.array() + c * x.array().cube())).tanh())).matrix();
}

// Causal softmax attention of every head: a.attention[h] [T, T] and a.mixed [T, d] from a.qkv.
template <typename Scalar>
void attention_forward(const ModelConfig& c, LayerActivations<Scalar>& a) {
  const int n = int(a.qkv.rows()), d = c.d_model, d_head = c.d_head();
  const Scalar scale = Scalar(1) / std::sqrt(Scalar(d_head));
  a.attention.resize(c.n_head);
  a.mixed.resize(n, d);
  for (int h = 0; h < c.n_head; ++h) {
    MatrixT<Scalar>& p = a.attention[h];
    p.noalias() = scale * a.qkv.block(0, h * d_head, n, d_head) * a.qkv.block(0, d + h * d_head, n, d_head).transpose();
    for (int i = 0; i < n; ++i) {
      const Scalar max_score = p.row(i).head(i + 1).maxCoeff();
      p.row(i).head(i + 1) = (p.row(i).head(i + 1).array() - max_score).exp();
      p.row(i).head(i + 1) /= p.row(i).head(i + 1).sum();
      p.row(i).tail(n - i - 1).setZero();  // a query never sees later positions
    }
    a.mixed.block(0, h * d_head, n, d_head).noalias() = p * a.qkv.block(0, 2 * d + h * d_head, n, d_head);
  }
}

// One pre-LayerNorm block: x_in -> x_out, saving everything in a.
template <typename Scalar>
void block_forward(const ModelConfig& c, const LayerSlots& s, const Scalar* params, LayerActivations<Scalar>& a,
                   MatrixT<Scalar>& x_out) {
  const int d = c.d_model;
  const Scalar eps = Scalar(c.layer_norm_eps);
  layer_norm_forward(a.x_in, params, s.ln_1_gamma, s.ln_1_beta, eps, a.ln_1_xhat, a.ln_1_rstd, a.ln_1_out);
  linear_forward(a.ln_1_out, params, s.attn_qkv, s.attn_qkv_bias, 3 * d, c.qkv_bias, a.qkv);
  attention_forward(c, a);
  MatrixT<Scalar> projected;
  linear_forward(a.mixed, params, s.attn_proj, s.attn_proj_bias, d, true, projected);
  a.x_mid = a.x_in + projected;
  layer_norm_forward(a.x_mid, params, s.ln_2_gamma, s.ln_2_beta, eps, a.ln_2_xhat, a.ln_2_rstd, a.ln_2_out);
  linear_forward(a.ln_2_out, params, s.mlp_fc, s.mlp_fc_bias, c.d_ff(), true, a.fc);
  gelu_forward(a.fc, a.gelu);
  linear_forward(a.gelu, params, s.mlp_proj, s.mlp_proj_bias, d, true, projected);
  x_out = a.x_mid + projected;
}

}  // namespace

template <typename Scalar>
double softmax_cross_entropy(const MatrixT<Scalar>& logits, const std::vector<int>& targets, MatrixT<Scalar>& probs) {
  probs.resize(logits.rows(), logits.cols());
  double loss = 0.0;
  for (Eigen::Index t = 0; t < logits.rows(); ++t) {
    const Scalar max_logit = logits.row(t).maxCoeff();
    probs.row(t) = (logits.row(t).array() - max_logit).exp();
    const Scalar sum = probs.row(t).sum();
    probs.row(t) /= sum;
    if (targets[t] >= 0) loss -= double(logits(t, targets[t]) - max_logit) - std::log(double(sum));
  }
  return loss;
}


template double softmax_cross_entropy<float>(const MatrixT<float>&, const std::vector<int>&, MatrixT<float>&);
template double softmax_cross_entropy<double>(const MatrixT<double>&, const std::vector<int>&, MatrixT<double>&);

template <typename Scalar>
double forward_sequence(const ParameterLayout& layout, const Scalar* params, const std::vector<int>& inputs,
                        const std::vector<int>& targets, SequenceActivations<Scalar>& acts) {
  const ModelConfig& c = layout.config;
  if (c.traits().qkv == QkvLayout::Separate) return llama_forward_sequence(layout, params, inputs, targets, acts);
  const int n = int(inputs.size()), d = c.d_model;
  assert(n >= 1 && n <= c.context_length && "a training sequence fits the position table");
  assert(targets.size() == inputs.size() && "one target per input position");
  for (int i = 0; i < n; ++i) {
    if (inputs[i] < 0 || inputs[i] >= c.vocab_size)
      throw DataError("token id " + std::to_string(inputs[i]) + " is outside the vocabulary");
    if (targets[i] < -1 || targets[i] >= c.vocab_size)
      throw DataError("target id " + std::to_string(targets[i]) + " is outside the vocabulary");
  }
  acts.inputs = inputs;
  acts.layers.resize(c.n_layer);

  const auto wte = view(params, layout.wte, c.vocab_size, d);
  const auto wpe = view(params, layout.wpe, c.context_length, d);
  MatrixT<Scalar>& x0 = acts.layers[0].x_in;  // [T, d] token + position embeddings
  x0.resize(n, d);
  for (int t = 0; t < n; ++t) x0.row(t) = wte.row(inputs[t]) + wpe.row(t);

  for (int l = 0; l < c.n_layer; ++l) {
    MatrixT<Scalar>& out = l + 1 < c.n_layer ? acts.layers[l + 1].x_in : acts.x_out;
    block_forward(c, layout.layers[l], params, acts.layers[l], out);
  }
  layer_norm_forward(acts.x_out, params, layout.ln_f_gamma, layout.ln_f_beta, Scalar(c.layer_norm_eps),
                     acts.ln_f_xhat, acts.ln_f_rstd, acts.ln_f_out);
  acts.logits.noalias() = acts.ln_f_out * wte.transpose();  // tied head
  return softmax_cross_entropy(acts.logits, targets, acts.probs);
}

template double forward_sequence<float>(const ParameterLayout&, const float*, const std::vector<int>&,
                                        const std::vector<int>&, SequenceActivations<float>&);
template double forward_sequence<double>(const ParameterLayout&, const double*, const std::vector<int>&,
                                         const std::vector<int>&, SequenceActivations<double>&);

}  // namespace kvscope
