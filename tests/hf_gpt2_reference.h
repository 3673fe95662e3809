#pragma once
// A GPT-2 held the way Hugging Face stores it (tensor names of GPT2LMHeadModel, Conv1D weights
// [in, out]) and an independent forward pass over exactly that layout: double precision, plain
// loops, one position at a time. It shares nothing with core/ (no ModelWeights, no transposes),
// so a loader that mixes up [in, out], the Q|K|V order or the tied head disagrees with it.
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace hf {

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // row-major
};

struct Gpt2 {
  int vocab = 0, context = 0, d = 0, n_head = 0, n_layer = 0;
  double eps = 1e-5;
  std::map<std::string, Tensor> tensors;  // names without "transformer."; "lm_head.weight" only when untied

  const std::vector<float>& at(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::logic_error("reference model has no tensor " + name);
    return it->second.values;
  }
};

// Random values m / 2^scale_bits with |m| <= 255 (plus `offset`): exactly representable in F32,
// F16 and BF16, so the same numbers reach the model whatever the storage dtype.
inline Tensor random_tensor(std::vector<std::int64_t> shape, int scale_bits, std::mt19937& rng, float offset = 0,
                            int max_m = 255) {
  Tensor t{shape, {}};
  std::int64_t n = 1;
  for (std::int64_t s : shape) n *= s;
  t.values.resize(std::size_t(n));
  for (float& v : t.values) v = offset + float(int(rng() % unsigned(2 * max_m + 1)) - max_m) / float(1 << scale_bits);
  return t;
}

inline Gpt2 random_gpt2(int vocab, int context, int d, int n_head, int n_layer, unsigned seed, bool untied_head) {
  std::mt19937 rng(seed);
  Gpt2 m;
  m.vocab = vocab, m.context = context, m.d = d, m.n_head = n_head, m.n_layer = n_layer;
  auto& t = m.tensors;
  t["wte.weight"] = random_tensor({vocab, d}, 7, rng);
  t["wpe.weight"] = random_tensor({context, d}, 8, rng);
  for (int l = 0; l < n_layer; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    t[h + "ln_1.weight"] = random_tensor({d}, 7, rng, 1.0f, 48);  // (128 + m) / 128: 8 significant bits
    t[h + "ln_1.bias"] = random_tensor({d}, 9, rng);
    t[h + "attn.c_attn.weight"] = random_tensor({d, 3 * d}, 9, rng);
    t[h + "attn.c_attn.bias"] = random_tensor({3 * d}, 10, rng);
    t[h + "attn.c_proj.weight"] = random_tensor({d, d}, 9, rng);
    t[h + "attn.c_proj.bias"] = random_tensor({d}, 10, rng);
    t[h + "ln_2.weight"] = random_tensor({d}, 7, rng, 1.0f, 48);
    t[h + "ln_2.bias"] = random_tensor({d}, 9, rng);
    t[h + "mlp.c_fc.weight"] = random_tensor({d, 4 * d}, 9, rng);
    t[h + "mlp.c_fc.bias"] = random_tensor({4 * d}, 10, rng);
    t[h + "mlp.c_proj.weight"] = random_tensor({4 * d, d}, 10, rng);
    t[h + "mlp.c_proj.bias"] = random_tensor({d}, 10, rng);
  }
  t["ln_f.weight"] = random_tensor({d}, 7, rng, 1.0f, 48);
  t["ln_f.bias"] = random_tensor({d}, 9, rng);
  if (untied_head) t["lm_head.weight"] = random_tensor({vocab, d}, 7, rng);  // nn.Linear: [vocab, d]
  return m;
}

using Vec = std::vector<double>;

inline Vec layer_norm(const Vec& x, const std::vector<float>& gamma, const std::vector<float>& beta, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  var /= double(x.size());
  Vec y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) / std::sqrt(var + eps) * gamma[i] + beta[i];
  return y;
}

// Conv1D: y[o] = b[o] + sum_i x[i] W[i][o], W stored [in, out].
inline Vec conv1d(const Vec& x, const std::vector<float>& w, const std::vector<float>& b) {
  const std::size_t n_in = x.size(), n_out = b.size();
  Vec y(n_out);
  for (std::size_t o = 0; o < n_out; ++o) {
    double s = b[o];
    for (std::size_t i = 0; i < n_in; ++i) s += x[i] * double(w[i * n_out + o]);
    y[o] = s;
  }
  return y;
}

inline double gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

// Causal self-attention of position t over 0..t, heads side by side in q/k/v.
inline Vec attend(const std::vector<Vec>& q, const std::vector<Vec>& k, const std::vector<Vec>& v, int t, int n_head) {
  const int d = int(q[t].size()), dh = d / n_head;
  Vec mixed(d, 0.0);
  for (int h = 0; h < n_head; ++h) {
    Vec score(t + 1);
    double top = -1e300, sum = 0;
    for (int s = 0; s <= t; ++s) {
      double dot = 0;
      for (int j = 0; j < dh; ++j) dot += q[t][h * dh + j] * k[s][h * dh + j];
      score[s] = dot / std::sqrt(double(dh));
      top = std::max(top, score[s]);
    }
    for (int s = 0; s <= t; ++s) sum += (score[s] = std::exp(score[s] - top));
    for (int s = 0; s <= t; ++s)
      for (int j = 0; j < dh; ++j) mixed[h * dh + j] += score[s] / sum * v[s][h * dh + j];
  }
  return mixed;
}

// Logits [vocab] of the last position of tokens.
inline Vec last_logits(const Gpt2& m, const std::vector<int>& tokens) {
  const int T = int(tokens.size()), d = m.d;
  std::vector<Vec> x(T, Vec(d));
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < d; ++i) x[t][i] = double(m.at("wte.weight")[tokens[t] * d + i]) + m.at("wpe.weight")[t * d + i];
  for (int l = 0; l < m.n_layer; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    std::vector<Vec> q(T), k(T), v(T);
    for (int t = 0; t < T; ++t) {
      const Vec qkv = conv1d(layer_norm(x[t], m.at(h + "ln_1.weight"), m.at(h + "ln_1.bias"), m.eps),
                             m.at(h + "attn.c_attn.weight"), m.at(h + "attn.c_attn.bias"));
      q[t] = Vec(qkv.begin(), qkv.begin() + d);  // output columns 0..d-1 are Q, then K, then V
      k[t] = Vec(qkv.begin() + d, qkv.begin() + 2 * d);
      v[t] = Vec(qkv.begin() + 2 * d, qkv.end());
    }
    for (int t = 0; t < T; ++t) {
      const Vec a = conv1d(attend(q, k, v, t, m.n_head), m.at(h + "attn.c_proj.weight"), m.at(h + "attn.c_proj.bias"));
      for (int i = 0; i < d; ++i) x[t][i] += a[i];
      Vec hidden = conv1d(layer_norm(x[t], m.at(h + "ln_2.weight"), m.at(h + "ln_2.bias"), m.eps),
                          m.at(h + "mlp.c_fc.weight"), m.at(h + "mlp.c_fc.bias"));
      for (double& u : hidden) u = gelu_tanh(u);
      const Vec out = conv1d(hidden, m.at(h + "mlp.c_proj.weight"), m.at(h + "mlp.c_proj.bias"));
      for (int i = 0; i < d; ++i) x[t][i] += out[i];
    }
  }
  const Vec y = layer_norm(x[T - 1], m.at("ln_f.weight"), m.at("ln_f.bias"), m.eps);
  const std::vector<float>& head = m.tensors.count("lm_head.weight") ? m.at("lm_head.weight") : m.at("wte.weight");
  Vec logits(m.vocab, 0.0);
  for (int v = 0; v < m.vocab; ++v)
    for (int i = 0; i < d; ++i) logits[v] += y[i] * double(head[v * d + i]);
  return logits;
}

}  // namespace hf
