#pragma once
// An independent Gemma 3 text model for tests: random weights under Hugging Face's names, a config.json
// as Gemma3ForCausalLM's, and a forward pass in double precision that recomputes the whole sequence
// with a window mask on local layers, written from modeling_gemma3.py's equations (not from
// core/engine): RMSNorm x (1 + w), embeddings x sqrt(hidden) in the weights' dtype, q/k norms before
// RoPE (local layers: rope_local_base_freq), scores x query_pre_attn_scalar^-1/2, the attention output
// and the MLP output normed before their residual adds, gelu_pytorch_tanh(gate) x up, tied head.
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/engine/kernels/random.h"

namespace gemma_ref {

struct Shape {
  int vocab = 40, hidden = 32, ff = 48, layers = 6, heads = 4, kv_heads = 2, head_dim = 8, context = 24;
  int window = 4;
  int pattern = 6;  // every 6th layer global: layers 0-4 local, 5 global
  double query_pre_attn_scalar = 16;  // not head_dim (8): a scale taken from head_dim shows
  double theta = 1000000.0, local_theta = 10000.0;
  double attn_softcap = 0, final_softcap = 0;  // 0: null, as in Gemma 3
  bool use_layer_types = true;  // false: the older sliding_window_pattern field instead

  bool local(int layer) const { return (layer + 1) % pattern != 0; }
};

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

struct Model {
  Shape s;
  std::string dtype = "F32";  // as the folder stores the weights: the embedding scale is rounded to it
  std::map<std::string, Tensor> tensors;
  const std::vector<float>& at(const std::string& name) const { return tensors.at(name).values; }
};

// Values k/256 with |k| <= 64; norm weights j/128 with |j| <= 32 (applied as 1 + w): exact in F32,
// F16 and BF16 alike.
inline Model random_model(const Shape& s, std::uint64_t seed) {
  Model m{s, "F32", {}};
  kvscope::SplitMix64 rng(seed);
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, bool norm) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    Tensor t{shape, std::vector<float>(std::size_t(n))};
    for (float& v : t.values) v = norm ? float(int(rng.uniform() * 65.0) - 32) / 128.0f : float(int(rng.uniform() * 129.0) - 64) / 256.0f;
    m.tensors[name] = t;
  };
  const int q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  add("model.embed_tokens.weight", {s.vocab, s.hidden}, false);
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {s.hidden}, true);
    add(p + "self_attn.q_proj.weight", {q, s.hidden}, false);
    add(p + "self_attn.k_proj.weight", {kv, s.hidden}, false);
    add(p + "self_attn.v_proj.weight", {kv, s.hidden}, false);
    add(p + "self_attn.o_proj.weight", {s.hidden, q}, false);
    add(p + "self_attn.q_norm.weight", {s.head_dim}, true);
    add(p + "self_attn.k_norm.weight", {s.head_dim}, true);
    add(p + "post_attention_layernorm.weight", {s.hidden}, true);
    add(p + "pre_feedforward_layernorm.weight", {s.hidden}, true);
    add(p + "post_feedforward_layernorm.weight", {s.hidden}, true);
    add(p + "mlp.gate_proj.weight", {s.ff, s.hidden}, false);
    add(p + "mlp.up_proj.weight", {s.ff, s.hidden}, false);
    add(p + "mlp.down_proj.weight", {s.hidden, s.ff}, false);
  }
  add("model.norm.weight", {s.hidden}, true);
  return m;
}

inline nlohmann::json config_json(const Shape& s) {
  nlohmann::json j = {{"architectures", {"Gemma3ForCausalLM"}}, {"model_type", "gemma3_text"},
                      {"hidden_size", s.hidden}, {"intermediate_size", s.ff}, {"num_attention_heads", s.heads},
                      {"num_key_value_heads", s.kv_heads}, {"head_dim", s.head_dim}, {"num_hidden_layers", s.layers},
                      {"vocab_size", s.vocab}, {"max_position_embeddings", s.context}, {"rms_norm_eps", 1e-6},
                      {"rope_theta", s.theta}, {"rope_local_base_freq", s.local_theta}, {"rope_scaling", nullptr},
                      {"sliding_window", s.window}, {"query_pre_attn_scalar", s.query_pre_attn_scalar},
                      {"hidden_activation", "gelu_pytorch_tanh"}, {"attention_bias", false},
                      {"attn_logit_softcapping", nullptr}, {"final_logit_softcapping", nullptr},
                      {"tie_word_embeddings", true}, {"torch_dtype", "bfloat16"}};
  if (s.attn_softcap > 0) j["attn_logit_softcapping"] = s.attn_softcap;
  if (s.final_softcap > 0) j["final_logit_softcapping"] = s.final_softcap;
  if (s.use_layer_types) {
    nlohmann::json types = nlohmann::json::array();
    for (int l = 0; l < s.layers; ++l) types.push_back(s.local(l) ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
  } else {
    j["sliding_window_pattern"] = s.pattern;
  }
  return j;
}

using Vec = std::vector<double>;

// float -> bfloat16 -> float, round to nearest even, by the bits (no NaNs here).
inline double round_bf16(float x) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &x, 4);
  bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
  float y = 0;
  std::memcpy(&y, &bits, 4);
  return y;
}

// The embedding scale as Hugging Face applies it: sqrt(hidden) as a tensor cast to the weights' dtype.
inline double embed_scale(const Model& m) {
  const float scale = float(std::sqrt(double(m.s.hidden)));
  return m.dtype == "BF16" ? round_bf16(scale) : double(scale);
}

inline Vec matvec(const std::vector<float>& w, const Vec& x, int out) {
  Vec y(std::size_t(out), 0.0);
  const std::size_t in = x.size();
  for (int o = 0; o < out; ++o)
    for (std::size_t i = 0; i < in; ++i) y[std::size_t(o)] += double(w[std::size_t(o) * in + i]) * x[i];
  return y;
}

// Gemma3RMSNorm over x[begin, begin + n): x / sqrt(mean(x^2) + eps) * (1 + w).
inline void norm(Vec& x, std::size_t begin, std::size_t n, const std::vector<float>& w) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += x[begin + i] * x[begin + i];
  const double inv = 1.0 / std::sqrt(ss / double(n) + 1e-6);
  for (std::size_t i = 0; i < n; ++i) x[begin + i] = x[begin + i] * inv * (1.0 + double(w[i]));
}

// Rotate-half with base theta: element i pairs with i + half.
inline void rotate(Vec& x, std::size_t begin, int head_dim, int position, double theta) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const double a = position * std::pow(theta, -2.0 * i / head_dim), c = std::cos(a), sn = std::sin(a);
    const double x1 = x[begin + std::size_t(i)], x2 = x[begin + std::size_t(i + half)];
    x[begin + std::size_t(i)] = x1 * c - x2 * sn;
    x[begin + std::size_t(i + half)] = x2 * c + x1 * sn;
  }
}

inline double gelu_tanh(double z) { return 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z))); }

// The window a layer masks with: its own on local layers, and a model-wide one on every layer (the
// smaller when both are set).
inline int layer_window(const Shape& s, int layer, int model_window) {
  const int own = s.local(layer) ? s.window : 0;
  if (own > 0 && model_window > 0) return std::min(own, model_window);
  return own > 0 ? own : model_window;
}

// Logits of the last position of ids, recomputing everything.
inline Vec last_logits(const Model& m, const std::vector<int>& ids, int model_window = 0) {
  const Shape& s = m.s;
  const int n = int(ids.size()), hd = s.head_dim, q_dim = s.heads * hd, kv_dim = s.kv_heads * hd;
  const double scale = embed_scale(m);
  std::vector<Vec> x(std::size_t(n), Vec(std::size_t(s.hidden)));
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < s.hidden; ++i)
      x[std::size_t(t)][std::size_t(i)] = m.at("model.embed_tokens.weight")[std::size_t(ids[std::size_t(t)]) * s.hidden + i] * scale;
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const double theta = s.local(l) ? s.local_theta : s.theta;
    const int window = layer_window(s, l, model_window);
    std::vector<Vec> q(static_cast<std::size_t>(n)), k(static_cast<std::size_t>(n)), v(static_cast<std::size_t>(n));
    for (int t = 0; t < n; ++t) {
      Vec h = x[std::size_t(t)];
      norm(h, 0, std::size_t(s.hidden), m.at(p + "input_layernorm.weight"));
      q[std::size_t(t)] = matvec(m.at(p + "self_attn.q_proj.weight"), h, q_dim);
      k[std::size_t(t)] = matvec(m.at(p + "self_attn.k_proj.weight"), h, kv_dim);
      v[std::size_t(t)] = matvec(m.at(p + "self_attn.v_proj.weight"), h, kv_dim);
      for (int hh = 0; hh < s.heads; ++hh) {
        norm(q[std::size_t(t)], std::size_t(hh * hd), std::size_t(hd), m.at(p + "self_attn.q_norm.weight"));
        rotate(q[std::size_t(t)], std::size_t(hh * hd), hd, t, theta);
      }
      for (int g = 0; g < s.kv_heads; ++g) {
        norm(k[std::size_t(t)], std::size_t(g * hd), std::size_t(hd), m.at(p + "self_attn.k_norm.weight"));
        rotate(k[std::size_t(t)], std::size_t(g * hd), hd, t, theta);
      }
    }
    std::vector<Vec> next = x;
    for (int t = 0; t < n; ++t) {
      Vec mixed(std::size_t(q_dim), 0.0);
      for (int hh = 0; hh < s.heads; ++hh) {
        const int g = hh / (s.heads / s.kv_heads);
        // Additive mask over every earlier key: -inf outside the window (Hugging Face's mask).
        Vec score(std::size_t(t + 1));
        double mx = -INFINITY;
        for (int j = 0; j <= t; ++j) {
          double dot = 0;
          for (int i = 0; i < hd; ++i) dot += q[std::size_t(t)][std::size_t(hh * hd + i)] * k[std::size_t(j)][std::size_t(g * hd + i)];
          dot /= std::sqrt(s.query_pre_attn_scalar);
          if (s.attn_softcap > 0) dot = s.attn_softcap * std::tanh(dot / s.attn_softcap);
          const bool masked = window > 0 && j <= t - window;
          score[std::size_t(j)] = masked ? -INFINITY : dot;
          mx = std::max(mx, score[std::size_t(j)]);
        }
        double sum = 0;
        for (double& e : score) sum += (e = std::exp(e - mx));
        for (int j = 0; j <= t; ++j)
          for (int i = 0; i < hd; ++i)
            mixed[std::size_t(hh * hd + i)] += score[std::size_t(j)] / sum * v[std::size_t(j)][std::size_t(g * hd + i)];
      }
      Vec o = matvec(m.at(p + "self_attn.o_proj.weight"), mixed, s.hidden);
      norm(o, 0, std::size_t(s.hidden), m.at(p + "post_attention_layernorm.weight"));
      Vec& y = next[std::size_t(t)];
      for (int i = 0; i < s.hidden; ++i) y[std::size_t(i)] += o[std::size_t(i)];
      Vec h = y;
      norm(h, 0, std::size_t(s.hidden), m.at(p + "pre_feedforward_layernorm.weight"));
      Vec gate = matvec(m.at(p + "mlp.gate_proj.weight"), h, s.ff), up = matvec(m.at(p + "mlp.up_proj.weight"), h, s.ff);
      for (int i = 0; i < s.ff; ++i) gate[std::size_t(i)] = gelu_tanh(gate[std::size_t(i)]) * up[std::size_t(i)];
      Vec down = matvec(m.at(p + "mlp.down_proj.weight"), gate, s.hidden);
      norm(down, 0, std::size_t(s.hidden), m.at(p + "post_feedforward_layernorm.weight"));
      for (int i = 0; i < s.hidden; ++i) y[std::size_t(i)] += down[std::size_t(i)];
    }
    x = next;
  }
  Vec last = x[std::size_t(n - 1)];
  norm(last, 0, std::size_t(s.hidden), m.at("model.norm.weight"));
  Vec logits = matvec(m.at("model.embed_tokens.weight"), last, s.vocab);
  if (s.final_softcap > 0)
    for (double& z : logits) z = s.final_softcap * std::tanh(z / s.final_softcap);
  return logits;
}

}  // namespace gemma_ref
