#pragma once
// An independent Llama-family model for tests: random weights under Hugging Face names, written as a
// model folder, and a forward pass in double precision with no cache that recomputes the whole
// sequence, written from the Hugging Face modelling code's equations (not from core/engine).
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/engine/kernels/random.h"

namespace llama_ref {

struct Shape {
  std::string model_type = "llama";  // llama, mistral, qwen2, qwen3
  int vocab = 40, hidden = 32, ff = 48, layers = 2, heads = 4, kv_heads = 2, head_dim = 8, context = 24;
  double theta = 10000.0;
  bool llama3_scaling = false;  // rope_scaling {llama3, factor 8, low 1, high 4, original 16}
  bool tied = true;
  bool attention_bias = false;
};

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

struct Model {
  Shape s;
  std::map<std::string, Tensor> tensors;
  const std::vector<float>& at(const std::string& name) const { return tensors.at(name).values; }
};

// Values k/256 with |k| <= 64 (norm gains 1 + j/128 with |j| <= 32): exact in F32, F16 and BF16
// (7 fraction bits) alike, so one reference serves every dtype.
inline Model random_model(const Shape& s, std::uint64_t seed) {
  Model m{s, {}};
  kvscope::SplitMix64 rng(seed);
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, bool gain) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    Tensor t{shape, std::vector<float>(std::size_t(n))};
    for (float& v : t.values) v = gain ? 1.0f + float(int(rng.uniform() * 65.0) - 32) / 128.0f
                                       : float(int(rng.uniform() * 129.0) - 64) / 256.0f;
    m.tensors[name] = t;
  };
  const int q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  const bool qkv_bias = s.model_type == "qwen2" || s.attention_bias;
  add("model.embed_tokens.weight", {s.vocab, s.hidden}, false);
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {s.hidden}, true);
    add(p + "self_attn.q_proj.weight", {q, s.hidden}, false);
    add(p + "self_attn.k_proj.weight", {kv, s.hidden}, false);
    add(p + "self_attn.v_proj.weight", {kv, s.hidden}, false);
    if (qkv_bias) {
      add(p + "self_attn.q_proj.bias", {q}, false);
      add(p + "self_attn.k_proj.bias", {kv}, false);
      add(p + "self_attn.v_proj.bias", {kv}, false);
    }
    if (s.attention_bias) add(p + "self_attn.o_proj.bias", {s.hidden}, false);
    if (s.model_type == "qwen3") {
      add(p + "self_attn.q_norm.weight", {s.head_dim}, true);
      add(p + "self_attn.k_norm.weight", {s.head_dim}, true);
    }
    add(p + "self_attn.o_proj.weight", {s.hidden, q}, false);
    add(p + "post_attention_layernorm.weight", {s.hidden}, true);
    add(p + "mlp.gate_proj.weight", {s.ff, s.hidden}, false);
    add(p + "mlp.up_proj.weight", {s.ff, s.hidden}, false);
    add(p + "mlp.down_proj.weight", {s.hidden, s.ff}, false);
  }
  add("model.norm.weight", {s.hidden}, true);
  if (!s.tied) add("lm_head.weight", {s.vocab, s.hidden}, false);
  return m;
}

inline nlohmann::json config_json(const Shape& s) {
  nlohmann::json j = {{"model_type", s.model_type}, {"hidden_size", s.hidden}, {"intermediate_size", s.ff},
                      {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
                      {"head_dim", s.head_dim}, {"num_hidden_layers", s.layers}, {"vocab_size", s.vocab},
                      {"max_position_embeddings", s.context}, {"rms_norm_eps", 1e-6}, {"rope_theta", s.theta},
                      {"tie_word_embeddings", s.tied}, {"attention_bias", s.attention_bias},
                      {"torch_dtype", "bfloat16"}, {"rope_scaling", nullptr}};
  if (s.llama3_scaling)
    j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
  return j;
}

using Vec = std::vector<double>;

// y = W x (+ b), W row-major [out, in].
inline Vec matvec(const std::vector<float>& w, const Vec& x, int out, const std::vector<float>* b = nullptr) {
  Vec y(out, 0.0);
  const std::size_t in = x.size();
  for (int o = 0; o < out; ++o) {
    double acc = b ? (*b)[o] : 0.0;
    for (std::size_t i = 0; i < in; ++i) acc += double(w[o * in + i]) * x[i];
    y[o] = acc;
  }
  return y;
}

inline void rms(Vec& x, std::size_t begin, std::size_t n, const std::vector<float>& g, double eps = 1e-6) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += x[begin + i] * x[begin + i];
  const double inv = 1.0 / std::sqrt(ss / double(n) + eps);
  for (std::size_t i = 0; i < n; ++i) x[begin + i] *= inv * g[i];
}

// Frequency of pair i, with Llama 3's piecewise scaling written as in the paper's reference code.
inline double frequency(const Shape& s, int i) {
  double f = std::pow(s.theta, -2.0 * i / s.head_dim);
  if (!s.llama3_scaling) return f;
  const double factor = 8, low = 1, high = 4, original = 16, pi = 3.14159265358979323846;
  const double wavelength = 2 * pi / f;
  if (wavelength > original / low) return f / factor;
  if (wavelength < original / high) return f;
  const double t = (original / wavelength - low) / (high - low);
  return t * f + (1 - t) * f / factor;
}

// Rotate-half: element i pairs with i + half, both rotated by position * frequency(i).
inline void rotate(Vec& x, std::size_t begin, const Shape& s, int position) {
  const int half = s.head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const double a = position * frequency(s, i), c = std::cos(a), sn = std::sin(a);
    const double x1 = x[begin + i], x2 = x[begin + i + half];
    x[begin + i] = x1 * c - x2 * sn;
    x[begin + i + half] = x2 * c + x1 * sn;
  }
}

// Logits of the last position of ids, recomputing everything; window > 0 limits each query to its
// newest `window` keys (the sliding window).
inline Vec last_logits(const Model& m, const std::vector<int>& ids, int window = 0) {
  const Shape& s = m.s;
  const int n = int(ids.size()), hd = s.head_dim, q_dim = s.heads * hd, kv_dim = s.kv_heads * hd;
  std::vector<Vec> x(n);
  for (int t = 0; t < n; ++t) {
    x[t].assign(s.hidden, 0.0);
    for (int i = 0; i < s.hidden; ++i) x[t][i] = m.at("model.embed_tokens.weight")[std::size_t(ids[t]) * s.hidden + i];
  }
  auto opt = [&](const std::string& name) { return m.tensors.count(name) ? &m.at(name) : nullptr; };
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<Vec> q(n), k(n), v(n);
    for (int t = 0; t < n; ++t) {
      Vec h = x[t];
      rms(h, 0, s.hidden, m.at(p + "input_layernorm.weight"));
      q[t] = matvec(m.at(p + "self_attn.q_proj.weight"), h, q_dim, opt(p + "self_attn.q_proj.bias"));
      k[t] = matvec(m.at(p + "self_attn.k_proj.weight"), h, kv_dim, opt(p + "self_attn.k_proj.bias"));
      v[t] = matvec(m.at(p + "self_attn.v_proj.weight"), h, kv_dim, opt(p + "self_attn.v_proj.bias"));
      for (int hh = 0; hh < s.heads; ++hh) {
        if (opt(p + "self_attn.q_norm.weight")) rms(q[t], std::size_t(hh) * hd, hd, m.at(p + "self_attn.q_norm.weight"));
        rotate(q[t], std::size_t(hh) * hd, s, t);
      }
      for (int g = 0; g < s.kv_heads; ++g) {
        if (opt(p + "self_attn.k_norm.weight")) rms(k[t], std::size_t(g) * hd, hd, m.at(p + "self_attn.k_norm.weight"));
        rotate(k[t], std::size_t(g) * hd, s, t);
      }
    }
    for (int t = 0; t < n; ++t) {
      Vec mixed(q_dim, 0.0);
      const int first = window > 0 ? std::max(0, t - window + 1) : 0;
      for (int hh = 0; hh < s.heads; ++hh) {
        const int g = hh * s.kv_heads / s.heads;  // repeat_interleave: consecutive query heads share
        Vec score;
        double mx = -1e300;
        for (int j = first; j <= t; ++j) {
          double dot = 0;
          for (int i = 0; i < hd; ++i) dot += q[t][hh * hd + i] * k[j][g * hd + i];
          score.push_back(dot / std::sqrt(double(hd)));
          mx = std::max(mx, score.back());
        }
        double sum = 0;
        for (double& e : score) sum += (e = std::exp(e - mx));
        for (int j = first; j <= t; ++j)
          for (int i = 0; i < hd; ++i) mixed[hh * hd + i] += score[j - first] / sum * v[j][g * hd + i];
      }
      const Vec o = matvec(m.at(p + "self_attn.o_proj.weight"), mixed, s.hidden, opt(p + "self_attn.o_proj.bias"));
      for (int i = 0; i < s.hidden; ++i) x[t][i] += o[i];
      Vec h = x[t];
      rms(h, 0, s.hidden, m.at(p + "post_attention_layernorm.weight"));
      Vec gate = matvec(m.at(p + "mlp.gate_proj.weight"), h, s.ff), up = matvec(m.at(p + "mlp.up_proj.weight"), h, s.ff);
      for (int i = 0; i < s.ff; ++i) gate[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
      const Vec down = matvec(m.at(p + "mlp.down_proj.weight"), gate, s.hidden);
      for (int i = 0; i < s.hidden; ++i) x[t][i] += down[i];
    }
  }
  Vec last = x[n - 1];
  rms(last, 0, s.hidden, m.at("model.norm.weight"));
  return matvec(m.tensors.count("lm_head.weight") ? m.at("lm_head.weight") : m.at("model.embed_tokens.weight"), last, s.vocab);
}

}  // namespace llama_ref
