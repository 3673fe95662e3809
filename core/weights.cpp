#include "core/weights.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/random.h"

namespace kvscope {

ModelWeights allocate_weights(const ModelConfig& c) {
  const int d = c.d_model;
  ModelWeights w;
  w.token_embedding = Matrix::Zero(c.vocab_size, d);
  w.position_embedding = Matrix::Zero(c.context_length, d);
  w.layers.resize(c.n_layer);
  for (LayerWeights& l : w.layers) {
    l.ln_1_gamma = Vector::Ones(d);
    l.ln_1_beta = Vector::Zero(d);
    l.attn_qkv = Matrix::Zero(3 * d, d);
    l.attn_qkv_bias = Vector::Zero(3 * d);
    l.attn_proj = Matrix::Zero(d, d);
    l.attn_proj_bias = Vector::Zero(d);
    l.ln_2_gamma = Vector::Ones(d);
    l.ln_2_beta = Vector::Zero(d);
    l.mlp_fc = Matrix::Zero(4 * d, d);
    l.mlp_fc_bias = Vector::Zero(4 * d);
    l.mlp_proj = Matrix::Zero(d, 4 * d);
    l.mlp_proj_bias = Vector::Zero(d);
  }
  w.ln_f_gamma = Vector::Ones(d);
  w.ln_f_beta = Vector::Zero(d);
  return w;
}

namespace {
void fill_normal(float* data, std::int64_t n, float stddev, SplitMix64& rng) {
  for (std::int64_t i = 0; i < n; ++i) data[i] = stddev * rng.normal();
}
}  // namespace

ModelWeights random_weights(const ModelConfig& c, std::uint64_t seed) {
  validate(c);
  ModelWeights w = allocate_weights(c);
  SplitMix64 rng(seed);
  const float std_init = 0.02f;
  const float std_residual = 0.02f / std::sqrt(2.0f * c.n_layer);  // GPT-2's scaled residual init
  fill_normal(w.token_embedding.data(), w.token_embedding.size(), std_init, rng);
  fill_normal(w.position_embedding.data(), w.position_embedding.size(), 0.01f, rng);
  for (LayerWeights& l : w.layers) {
    fill_normal(l.attn_qkv.data(), l.attn_qkv.size(), std_init, rng);
    if (c.qkv_bias) fill_normal(l.attn_qkv_bias.data(), l.attn_qkv_bias.size(), std_init, rng);
    fill_normal(l.attn_proj.data(), l.attn_proj.size(), std_residual, rng);
    fill_normal(l.mlp_fc.data(), l.mlp_fc.size(), std_init, rng);
    fill_normal(l.mlp_proj.data(), l.mlp_proj.size(), std_residual, rng);
  }
  return w;
}

namespace {
void expect_shape(const char* name, Eigen::Index rows, Eigen::Index cols, Eigen::Index want_rows,
                  Eigen::Index want_cols) {
  if (rows != want_rows || cols != want_cols)
    throw DataError(std::string("tensor ") + name + " has shape [" + std::to_string(rows) + ", " +
                    std::to_string(cols) + "], config needs [" + std::to_string(want_rows) + ", " +
                    std::to_string(want_cols) + "]");
}
}  // namespace

void check_shapes(const ModelWeights& w, const ModelConfig& c) {
  const int d = c.d_model;
  expect_shape("wte", w.token_embedding.rows(), w.token_embedding.cols(), c.vocab_size, d);
  expect_shape("wpe", w.position_embedding.rows(), w.position_embedding.cols(), c.context_length, d);
  if (int(w.layers.size()) != c.n_layer)
    throw DataError("model has " + std::to_string(w.layers.size()) + " layers, config needs " +
                    std::to_string(c.n_layer));
  for (const LayerWeights& l : w.layers) {
    expect_shape("ln_1", l.ln_1_gamma.size(), l.ln_1_beta.size(), d, d);
    expect_shape("attn.c_attn", l.attn_qkv.rows(), l.attn_qkv.cols(), 3 * d, d);
    expect_shape("attn.c_attn.bias", l.attn_qkv_bias.size(), 1, 3 * d, 1);
    expect_shape("attn.c_proj", l.attn_proj.rows(), l.attn_proj.cols(), d, d);
    expect_shape("attn.c_proj.bias", l.attn_proj_bias.size(), 1, d, 1);
    expect_shape("ln_2", l.ln_2_gamma.size(), l.ln_2_beta.size(), d, d);
    expect_shape("mlp.c_fc", l.mlp_fc.rows(), l.mlp_fc.cols(), 4 * d, d);
    expect_shape("mlp.c_fc.bias", l.mlp_fc_bias.size(), 1, 4 * d, 1);
    expect_shape("mlp.c_proj", l.mlp_proj.rows(), l.mlp_proj.cols(), d, 4 * d);
    expect_shape("mlp.c_proj.bias", l.mlp_proj_bias.size(), 1, d, 1);
  }
  expect_shape("ln_f", w.ln_f_gamma.size(), w.ln_f_beta.size(), d, d);
  if (w.lm_head.size()) expect_shape("lm_head", w.lm_head.rows(), w.lm_head.cols(), c.vocab_size, d);
}

std::int64_t weight_bytes(const ModelWeights& w) {
  std::int64_t n = w.token_embedding.size() + w.position_embedding.size() + w.ln_f_gamma.size() +
                   w.ln_f_beta.size() + w.lm_head.size();
  for (const LayerWeights& l : w.layers)
    n += l.ln_1_gamma.size() + l.ln_1_beta.size() + l.attn_qkv.size() + l.attn_qkv_bias.size() +
         l.attn_proj.size() + l.attn_proj_bias.size() + l.ln_2_gamma.size() + l.ln_2_beta.size() +
         l.mlp_fc.size() + l.mlp_fc_bias.size() + l.mlp_proj.size() + l.mlp_proj_bias.size();
  return n * std::int64_t(sizeof(float));
}

}  // namespace kvscope
