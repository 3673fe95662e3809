// Backward pass of the training graph, written out by hand for this architecture. Each function
// takes the gradient of its output (d_*) and adds into the parameter gradients; the comments give
// the rule being applied.
#include <cassert>
#include <cmath>

#include "core/train/train_graph.h"

namespace kvscope {

namespace {

// y = xhat * gamma + beta, xhat = (x - mean) * rstd:
//   dgamma += sum_t dy * xhat, dbeta += sum_t dy,
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma (per row).
template <typename Scalar>
void layer_norm_backward(const MatrixT<Scalar>& d_out, const MatrixT<Scalar>& xhat, const VectorT<Scalar>& rstd,
                         const Scalar* params, Scalar* grads, std::int64_t gamma, std::int64_t beta,
                         MatrixT<Scalar>& d_x) {
  const int d = int(xhat.cols());
  view(grads, gamma, d) += (d_out.array() * xhat.array()).colwise().sum().transpose().matrix();
  view(grads, beta, d) += d_out.colwise().sum().transpose();
  const MatrixT<Scalar> d_xhat = (d_out.array().rowwise() * view(params, gamma, d).transpose().array()).matrix();
  d_x.resize(xhat.rows(), d);
  for (Eigen::Index r = 0; r < xhat.rows(); ++r) {
    const Scalar mean_dxhat = d_xhat.row(r).mean();
    const Scalar mean_dxhat_xhat = d_xhat.row(r).dot(xhat.row(r)) / Scalar(d);
    d_x.row(r) = rstd[r] * (d_xhat.row(r).array() - mean_dxhat - xhat.row(r).array() * mean_dxhat_xhat).matrix();
  }
}

// y = x W^T + b, W [out, in]: dW += dy^T x, db += sum_t dy, dx = dy W.
template <typename Scalar>
void linear_backward(const MatrixT<Scalar>& d_y, const MatrixT<Scalar>& x, const Scalar* params, Scalar* grads,
                     std::int64_t weight, std::int64_t bias, bool with_bias, MatrixT<Scalar>& d_x) {
  const int n_out = int(d_y.cols()), n_in = int(x.cols());
  view(grads, weight, n_out, n_in).noalias() += d_y.transpose() * x;
  if (with_bias) view(grads, bias, n_out) += d_y.colwise().sum().transpose();
  d_x.noalias() = d_y * view(params, weight, n_out, n_in);
}

// gelu(x) = 0.5 x (1 + tanh(u)), u = k (x + c x^3):
//   gelu'(x) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) k (1 + 3 c x^2).
template <typename Scalar>
void gelu_backward(const MatrixT<Scalar>& d_y, const MatrixT<Scalar>& x, MatrixT<Scalar>& d_x) {
  const Scalar k = Scalar(0.7978845608028654), c = Scalar(0.044715);
  const auto th = (k * (x.array() + c * x.array().cube())).tanh().eval();
  const auto slope = (Scalar(0.5) * (Scalar(1) + th) +
                      Scalar(0.5) * x.array() * (Scalar(1) - th.square()) * k * (Scalar(1) + Scalar(3) * c * x.array().square()))
                         .eval();
  d_x = (d_y.array() * slope).matrix();
}

// Per head, O = P V with P = softmax(scale Q K^T) under the causal mask:
//   dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(P * dP)), dQ = scale dS K, dK = scale dS^T Q.
// Masked entries have P = 0, so their dS is 0 and nothing flows to later positions.
template <typename Scalar>
void attention_backward(const ModelConfig& c, const LayerActivations<Scalar>& a, const MatrixT<Scalar>& d_mixed,
                        MatrixT<Scalar>& d_qkv) {
  const int n = int(a.qkv.rows()), d = c.d_model, d_head = c.d_head();
  const Scalar scale = Scalar(1) / std::sqrt(Scalar(d_head));
  d_qkv.resize(n, 3 * d);
  for (int h = 0; h < c.n_head; ++h) {
    const MatrixT<Scalar>& p = a.attention[h];
    const auto q = a.qkv.block(0, h * d_head, n, d_head);
    const auto k = a.qkv.block(0, d + h * d_head, n, d_head);
    const auto v = a.qkv.block(0, 2 * d + h * d_head, n, d_head);
    const auto d_o = d_mixed.block(0, h * d_head, n, d_head);
    d_qkv.block(0, 2 * d + h * d_head, n, d_head).noalias() = p.transpose() * d_o;
    MatrixT<Scalar> d_s = d_o * v.transpose();  // dP, then dS in place
    const VectorT<Scalar> row_dot = (p.array() * d_s.array()).rowwise().sum();
    d_s = (p.array() * (d_s.array().colwise() - row_dot.array())).matrix();
    d_qkv.block(0, h * d_head, n, d_head).noalias() = scale * d_s * k;
    d_qkv.block(0, d + h * d_head, n, d_head).noalias() = scale * d_s.transpose() * q;
  }
}

// One block in reverse. d_x holds the gradient of the block's output and becomes that of its input.
template <typename Scalar>
void block_backward(const ModelConfig& c, const LayerSlots& s, const Scalar* params, const LayerActivations<Scalar>& a,
                    Scalar* grads, MatrixT<Scalar>& d_x) {
  MatrixT<Scalar> d_hidden, d_fc, d_ln, d_res;
  // x_out = x_mid + mlp_proj(gelu(mlp_fc(ln_2(x_mid))))
  linear_backward(d_x, a.gelu, params, grads, s.mlp_proj, s.mlp_proj_bias, true, d_hidden);
  gelu_backward(d_hidden, a.fc, d_fc);
  linear_backward(d_fc, a.ln_2_out, params, grads, s.mlp_fc, s.mlp_fc_bias, true, d_ln);
  layer_norm_backward(d_ln, a.ln_2_xhat, a.ln_2_rstd, params, grads, s.ln_2_gamma, s.ln_2_beta, d_res);
  d_x += d_res;  // now d x_mid
  // x_mid = x_in + attn_proj(attention(qkv(ln_1(x_in))))
  MatrixT<Scalar> d_mixed, d_qkv;
  linear_backward(d_x, a.mixed, params, grads, s.attn_proj, s.attn_proj_bias, true, d_mixed);
  attention_backward(c, a, d_mixed, d_qkv);
  linear_backward(d_qkv, a.ln_1_out, params, grads, s.attn_qkv, s.attn_qkv_bias, c.qkv_bias, d_ln);
  layer_norm_backward(d_ln, a.ln_1_xhat, a.ln_1_rstd, params, grads, s.ln_1_gamma, s.ln_1_beta, d_res);
  d_x += d_res;  // now d x_in
}

}  // namespace

template <typename Scalar>
MatrixT<Scalar> cross_entropy_gradient(const MatrixT<Scalar>& probs, const std::vector<int>& targets, Scalar loss_scale) {
  MatrixT<Scalar> d_logits = probs * loss_scale;  // through softmax: scale * (probs - onehot(target))
  for (int t = 0; t < int(targets.size()); ++t) {
    if (targets[t] < 0)
      d_logits.row(t).setZero();
    else
      d_logits(t, targets[t]) -= loss_scale;
  }
  return d_logits;
}
template MatrixT<float> cross_entropy_gradient<float>(const MatrixT<float>&, const std::vector<int>&, float);
template MatrixT<double> cross_entropy_gradient<double>(const MatrixT<double>&, const std::vector<int>&, double);

template <typename Scalar>
void backward_sequence(const ParameterLayout& layout, const Scalar* params, const SequenceActivations<Scalar>& acts,
                       const std::vector<int>& targets, Scalar loss_scale, Scalar* grads) {
  const ModelConfig& c = layout.config;
  const int n = int(acts.inputs.size()), d = c.d_model;
  assert(targets.size() == acts.inputs.size() && "targets of the forward call");

  if (c.traits().qkv == QkvLayout::Separate) return llama_backward_sequence(layout, params, acts, targets, loss_scale, grads);
  const MatrixT<Scalar> d_logits = cross_entropy_gradient(acts.probs, targets, loss_scale);
  // logits = ln_f_out wte^T: the tied head adds to the token embedding's gradient.
  view(grads, layout.wte, c.vocab_size, d).noalias() += d_logits.transpose() * acts.ln_f_out;
  const MatrixT<Scalar> d_ln_f = d_logits * view(params, layout.wte, c.vocab_size, d);

  MatrixT<Scalar> d_x;  // gradient of the residual stream, walked back through the blocks
  layer_norm_backward(d_ln_f, acts.ln_f_xhat, acts.ln_f_rstd, params, grads, layout.ln_f_gamma, layout.ln_f_beta, d_x);
  for (int l = c.n_layer - 1; l >= 0; --l) block_backward(c, layout.layers[l], params, acts.layers[l], grads, d_x);

  // x0[t] = wte[input t] + wpe[t]
  auto d_wte = view(grads, layout.wte, c.vocab_size, d);
  auto d_wpe = view(grads, layout.wpe, c.context_length, d);
  for (int t = 0; t < n; ++t) {
    d_wte.row(acts.inputs[t]) += d_x.row(t);
    d_wpe.row(t) += d_x.row(t);
  }
}

template void backward_sequence<float>(const ParameterLayout&, const float*, const SequenceActivations<float>&,
                                       const std::vector<int>&, float, float*);
template void backward_sequence<double>(const ParameterLayout&, const double*, const SequenceActivations<double>&,
                                        const std::vector<int>&, double, double*);

}  // namespace kvscope
