#pragma once
// An independent GPT-2 forward pass for tests: double precision, one position at a time, no
// cache, no Eigen products, written from the architecture's definition rather than from core/model.
#include <cmath>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/model/weights.h"

namespace reference {

using Vec = std::vector<double>;

inline Vec layer_norm(const Vec& x, const kvscope::Vector& gamma, const kvscope::Vector& beta, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  var /= double(x.size());
  Vec out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = (x[i] - mean) / std::sqrt(var + eps) * gamma[i] + beta[i];
  return out;
}

// y[o] = sum_i W[o][i] x[i] + b[o], W stored [out, in] in any dtype.
inline Vec affine(const kvscope::WeightMatrix& weight, const kvscope::Vector* b, const Vec& x) {
  const kvscope::Matrix w = weight.widened();
  Vec y(size_t(w.rows()), 0.0);
  for (Eigen::Index o = 0; o < w.rows(); ++o) {
    double s = b ? double((*b)[o]) : 0.0;
    for (Eigen::Index i = 0; i < w.cols(); ++i) s += double(w(o, i)) * x[size_t(i)];
    y[size_t(o)] = s;
  }
  return y;
}

inline double gelu(double x) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }

// Logits [vocab] of the last position of tokens; a query at p attends to keys max(0, p-W+1)..p
// (W = window, 0 = all); positions past the position table wrap around.
inline Vec last_logits(const kvscope::ModelConfig& c, const kvscope::ModelWeights& w, const std::vector<int>& tokens,
                       int window) {
  const int T = int(tokens.size()), d = c.d_model, H = c.n_head, dh = d / H;
  std::vector<Vec> x(T, Vec(d));
  const kvscope::Matrix wte = w.token_embedding.widened(), wpe = w.position_embedding.widened();
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < d; ++i) x[t][i] = double(wte(tokens[t], i)) + double(wpe(t % c.context_length, i));
  for (const kvscope::LayerWeights& l : w.layers) {
    std::vector<Vec> q(T), k(T), v(T);
    for (int t = 0; t < T; ++t) {
      Vec qkv = affine(l.attn_qkv, c.qkv_bias ? &l.attn_qkv_bias : nullptr, layer_norm(x[t], l.ln_1_gamma, l.ln_1_beta, c.layer_norm_eps));
      q[t] = Vec(qkv.begin(), qkv.begin() + d);
      k[t] = Vec(qkv.begin() + d, qkv.begin() + 2 * d);
      v[t] = Vec(qkv.begin() + 2 * d, qkv.end());
    }
    std::vector<Vec> next = x;
    for (int t = 0; t < T; ++t) {
      Vec mixed(d, 0.0);
      for (int h = 0; h < H; ++h) {
        const int lo = window > 0 ? std::max(0, t - window + 1) : 0;
        std::vector<double> score(t + 1, 0.0);
        double max_score = -1e300, sum = 0;
        for (int s = lo; s <= t; ++s) {
          double dot = 0;
          for (int j = 0; j < dh; ++j) dot += q[t][h * dh + j] * k[s][h * dh + j];
          score[s] = dot / std::sqrt(double(dh));
          max_score = std::max(max_score, score[s]);
        }
        for (int s = lo; s <= t; ++s) sum += (score[s] = std::exp(score[s] - max_score));
        for (int s = lo; s <= t; ++s)
          for (int j = 0; j < dh; ++j) mixed[h * dh + j] += score[s] / sum * v[s][h * dh + j];
      }
      Vec attn = affine(l.attn_proj, &l.attn_proj_bias, mixed);
      for (int i = 0; i < d; ++i) next[t][i] += attn[i];
      Vec hidden = affine(l.mlp_fc, &l.mlp_fc_bias, layer_norm(next[t], l.ln_2_gamma, l.ln_2_beta, c.layer_norm_eps));
      for (double& a : hidden) a = gelu(a);
      Vec mlp = affine(l.mlp_proj, &l.mlp_proj_bias, hidden);
      for (int i = 0; i < d; ++i) next[t][i] += mlp[i];
    }
    x = next;
  }
  return affine(w.output_head(), nullptr, layer_norm(x[T - 1], w.ln_f_gamma, w.ln_f_beta, c.layer_norm_eps));
}

}  // namespace reference
