#pragma once
// An independent multi-head latent attention forward for the tests, written differently from
// core/engine/forward/model_mla.cpp: double precision, the whole sequence recomputed for every position, and
// each head's K and V expanded explicitly from the latent with loops (no cache, no views, no Eigen
// products), RoPE from its definition (angle = position x theta^(-2i/rope), pairs i and i + rope/2).
#include <cmath>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/model/weights.h"

namespace mla_ref {

using Rows = std::vector<std::vector<double>>;  // [position][feature]

// y[j] = sum_i W[j][i] x[i] for W stored [out, in].
inline std::vector<double> times(const kvscope::Matrix& w, const std::vector<double>& x) {
  std::vector<double> y(std::size_t(w.rows()), 0.0);
  for (Eigen::Index j = 0; j < w.rows(); ++j)
    for (Eigen::Index i = 0; i < w.cols(); ++i) y[std::size_t(j)] += double(w(j, i)) * x[std::size_t(i)];
  return y;
}
inline std::vector<double> times(const kvscope::WeightMatrix& w, const std::vector<double>& x) { return times(w.widened(), x); }

inline std::vector<double> rms_norm(const std::vector<double>& x, const kvscope::Vector& g, double eps) {
  double ss = 0.0;
  for (double v : x) ss += v * v;
  const double inv = 1.0 / std::sqrt(ss / double(x.size()) + eps);
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * double(g[Eigen::Index(i)]);
  return y;
}

// Rotates x[offset .. offset + dims) to `position`.
inline void rotate(std::vector<double>& x, std::size_t offset, int dims, int position, double theta) {
  const int half = dims / 2;
  for (int i = 0; i < half; ++i) {
    const double angle = position * std::pow(theta, -2.0 * i / dims);
    const double a = x[offset + std::size_t(i)], b = x[offset + std::size_t(i + half)];
    x[offset + std::size_t(i)] = a * std::cos(angle) - b * std::sin(angle);
    x[offset + std::size_t(i + half)] = b * std::cos(angle) + a * std::sin(angle);
  }
}

// Logits of the last position of ids (global layers, tied or untied head).
inline std::vector<double> logits(const kvscope::ModelConfig& c, const kvscope::ModelWeights& w, const std::vector<int>& ids) {
  const int t_len = int(ids.size()), heads = c.n_head, hd = c.d_head(), rope = c.qk_rope_dim, nope = hd - rope;
  const int r = c.kv_lora_rank;
  Rows x(static_cast<std::size_t>(t_len));
  for (int t = 0; t < t_len; ++t)
    for (Eigen::Index i = 0; i < w.token_embedding.cols(); ++i) x[std::size_t(t)].push_back(w.token_embedding.f32()(ids[std::size_t(t)], i));
  for (int l = 0; l < c.n_layer; ++l) {
    const kvscope::LayerWeights& lw = w.layers[std::size_t(l)];
    Rows q(static_cast<std::size_t>(t_len)), latent(static_cast<std::size_t>(t_len)), k_rope(static_cast<std::size_t>(t_len));
    for (int t = 0; t < t_len; ++t) {
      const std::vector<double> n = rms_norm(x[std::size_t(t)], lw.ln_1_gamma, c.layer_norm_eps);
      q[std::size_t(t)] = times(lw.attn_q, n);
      for (int h = 0; h < heads; ++h) rotate(q[std::size_t(t)], std::size_t(h * hd + nope), rope, t, c.rope_theta);
      latent[std::size_t(t)] = times(lw.attn_kv_down, n);
      k_rope[std::size_t(t)] = times(lw.attn_k_rope, n);
      rotate(k_rope[std::size_t(t)], 0, rope, t, c.rope_theta);
    }
    Rows mixed(static_cast<std::size_t>(t_len), std::vector<double>(static_cast<std::size_t>(heads * hd), 0.0));
    for (int h = 0; h < heads; ++h) {
      // Head h's K and V of every position, expanded from the latent one dimension at a time.
      Rows k(static_cast<std::size_t>(t_len), std::vector<double>(static_cast<std::size_t>(hd))), v = k;
      for (int t = 0; t < t_len; ++t) {
        for (int j = 0; j < nope; ++j) {
          double sum = 0.0;
          for (int i = 0; i < r; ++i) sum += double(lw.attn_k_up.f32()(h * nope + j, i)) * latent[std::size_t(t)][std::size_t(i)];
          k[std::size_t(t)][std::size_t(j)] = sum;
        }
        for (int j = 0; j < rope; ++j) k[std::size_t(t)][std::size_t(nope + j)] = k_rope[std::size_t(t)][std::size_t(j)];
        for (int j = 0; j < hd; ++j) {
          double sum = 0.0;
          for (int i = 0; i < r; ++i) sum += double(lw.attn_v_up.f32()(h * hd + j, i)) * latent[std::size_t(t)][std::size_t(i)];
          v[std::size_t(t)][std::size_t(j)] = sum;
        }
      }
      for (int t = 0; t < t_len; ++t) {
        std::vector<double> score(std::size_t(t + 1));
        double top = -1e300, total = 0.0;
        for (int s = 0; s <= t; ++s) {
          double dot = 0.0;
          for (int j = 0; j < hd; ++j) dot += q[std::size_t(t)][std::size_t(h * hd + j)] * k[std::size_t(s)][std::size_t(j)];
          score[std::size_t(s)] = dot / std::sqrt(double(hd));
          top = std::max(top, score[std::size_t(s)]);
        }
        for (double& e : score) total += (e = std::exp(e - top));
        for (int s = 0; s <= t; ++s)
          for (int j = 0; j < hd; ++j)
            mixed[std::size_t(t)][std::size_t(h * hd + j)] += score[std::size_t(s)] / total * v[std::size_t(s)][std::size_t(j)];
      }
    }
    for (int t = 0; t < t_len; ++t) {
      std::vector<double>& xt = x[std::size_t(t)];
      const std::vector<double> o = times(lw.attn_proj, mixed[std::size_t(t)]);
      for (std::size_t i = 0; i < xt.size(); ++i) xt[i] += o[i];
      const std::vector<double> m = rms_norm(xt, lw.ln_2_gamma, c.layer_norm_eps);
      std::vector<double> gate = times(lw.mlp_gate, m);
      const std::vector<double> up = times(lw.mlp_up, m);
      for (std::size_t i = 0; i < gate.size(); ++i) gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
      const std::vector<double> down = times(lw.mlp_proj, gate);
      for (std::size_t i = 0; i < xt.size(); ++i) xt[i] += down[i];
    }
  }
  return times(w.output_head(), rms_norm(x.back(), w.ln_f_gamma, c.layer_norm_eps));
}

}  // namespace mla_ref
