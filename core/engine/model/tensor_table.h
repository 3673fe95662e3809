#pragma once
// One declaration of a model family's tensors: Hugging Face name, shape from the config, role.
// Allocation, random initialisation, shape checks, byte and parameter counts (weights.cpp), the
// folder reader and writer (formats/) and the trainer's flat layout (train/) all visit this table,
// so a family's tensors are listed once. Adding a family: one visit_*_tensors and one layer function.
#include <string>
#include <utility>

#include "core/engine/model/config.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {

enum class TensorRole {
  TokenEmbedding,     // [vocab, d]
  PositionEmbedding,  // [context, d] learned absolute positions (GPT-2)
  Linear,             // [out, in]
  Bias,               // [out]
  NormGain,           // [n], initialised to one
  NormOffset,         // [n] RMSNorm weight w applied as 1 + w (Gemma), initialised to zero
  NormBias,           // [n]
  OutputHead,         // [vocab, d]
};

// How random_weights fills a tensor: GPT-2's N(0, 0.02), N(0, 0.01) for positions, and
// N(0, 0.02 / sqrt(2 n_layer)) for projections that add into the residual stream.
enum class TensorInit { Default, Normal, NormalSmall, Residual };

struct TensorSpec {
  std::string name;        // Hugging Face name without a model prefix, e.g. "h.0.attn.c_attn.weight"
  int rows = 0, cols = 1;  // as held in memory; vectors are [n, 1]
  TensorRole role = TensorRole::Linear;
  TensorInit init = TensorInit::Default;
  bool stored_transposed = false;  // Hugging Face Conv1D keeps [in, out] in the file
  bool optional = false;           // may be absent (a tied model's lm_head): empty when it is

  bool is_vector() const {
    return role == TensorRole::Bias || role == TensorRole::NormGain || role == TensorRole::NormOffset ||
           role == TensorRole::NormBias;
  }
  bool decays() const { return !is_vector(); }  // weight decay in training: matrices and embeddings
};

namespace table {
using R = TensorRole;
using I = TensorInit;
inline TensorSpec matrix(std::string name, int rows, int cols, R role, I init, bool transposed = false) {
  return {std::move(name), rows, cols, role, init, transposed, false};
}
inline TensorSpec vec(std::string name, int n, R role, I init = I::Default) {
  return {std::move(name), n, 1, role, init, false, false};
}
// lm_head: required when the config unties it, read if present otherwise.
inline TensorSpec output_head(const ModelConfig& c) {
  return {"lm_head.weight", c.vocab_size, c.d_model, R::OutputHead, I::Normal, false, c.tied_head};
}
}  // namespace table

// GPT-2: learned positions, pre-LayerNorm blocks, fused QKV and Conv1D weights ([in, out] in the file).
// visit(spec, tensor) is called once per tensor in file order, tensor being the Matrix or Vector of
// w that holds it. w.layers must already have config.n_layer entries.
template <class Weights, class Visit>  // Weights: ModelWeights or const ModelWeights
void visit_gpt2_tensors(const ModelConfig& c, Weights& w, Visit&& visit) {
  using namespace table;
  const int d = c.d_model, f = c.d_ff();
  visit(matrix("wte.weight", c.vocab_size, d, R::TokenEmbedding, I::Normal), w.token_embedding);
  visit(matrix("wpe.weight", c.context_length, d, R::PositionEmbedding, I::NormalSmall), w.position_embedding);
  for (int i = 0; i < c.n_layer; ++i) {
    auto& l = w.layers[i];
    const std::string h = "h." + std::to_string(i) + ".";
    visit(vec(h + "ln_1.weight", d, R::NormGain), l.ln_1_gamma);
    visit(vec(h + "ln_1.bias", d, R::NormBias), l.ln_1_beta);
    visit(matrix(h + "attn.c_attn.weight", 3 * d, d, R::Linear, I::Normal, true), l.attn_qkv);
    visit(vec(h + "attn.c_attn.bias", 3 * d, R::Bias, c.qkv_bias ? I::Normal : I::Default), l.attn_qkv_bias);
    visit(matrix(h + "attn.c_proj.weight", d, d, R::Linear, I::Residual, true), l.attn_proj);
    visit(vec(h + "attn.c_proj.bias", d, R::Bias), l.attn_proj_bias);
    visit(vec(h + "ln_2.weight", d, R::NormGain), l.ln_2_gamma);
    visit(vec(h + "ln_2.bias", d, R::NormBias), l.ln_2_beta);
    visit(matrix(h + "mlp.c_fc.weight", f, d, R::Linear, I::Normal, true), l.mlp_fc);
    visit(vec(h + "mlp.c_fc.bias", f, R::Bias), l.mlp_fc_bias);
    visit(matrix(h + "mlp.c_proj.weight", d, f, R::Linear, I::Residual, true), l.mlp_proj);
    visit(vec(h + "mlp.c_proj.bias", d, R::Bias), l.mlp_proj_bias);
  }
  visit(vec("ln_f.weight", d, R::NormGain), w.ln_f_gamma);
  visit(vec("ln_f.bias", d, R::NormBias), w.ln_f_beta);
  visit(output_head(c), w.lm_head);
}

// The attention projections of the Llama-style families, under layer prefix h: Q, K, V ([out, in] as
// nn.Linear stores them), optional q/k/v and o biases, optional per-head q/k norms (stored with
// `norm_role`), O.
struct AttentionTensors {
  bool qkv_bias = false, out_bias = false, qk_norm = false;
  TensorRole norm_role = TensorRole::NormGain;
};
template <class Layer, class Visit>
void visit_attention_projections(const ModelConfig& c, const std::string& h, const AttentionTensors& a, Layer& l,
                                 Visit&& visit) {
  using namespace table;
  const int d = c.d_model, q = c.q_dim(), kv = c.kv_dim();
  visit(matrix(h + "self_attn.q_proj.weight", q, d, R::Linear, I::Normal), l.attn_q);
  visit(matrix(h + "self_attn.k_proj.weight", kv, d, R::Linear, I::Normal), l.attn_k);
  visit(matrix(h + "self_attn.v_proj.weight", kv, d, R::Linear, I::Normal), l.attn_v);
  if (a.qkv_bias) {
    visit(vec(h + "self_attn.q_proj.bias", q, R::Bias, I::Normal), l.attn_q_bias);
    visit(vec(h + "self_attn.k_proj.bias", kv, R::Bias, I::Normal), l.attn_k_bias);
    visit(vec(h + "self_attn.v_proj.bias", kv, R::Bias, I::Normal), l.attn_v_bias);
  }
  if (a.qk_norm) {
    visit(vec(h + "self_attn.q_norm.weight", c.d_head(), a.norm_role), l.q_norm);
    visit(vec(h + "self_attn.k_norm.weight", c.d_head(), a.norm_role), l.k_norm);
  }
  visit(matrix(h + "self_attn.o_proj.weight", d, q, R::Linear, I::Residual), l.attn_proj);
  if (a.out_bias) visit(vec(h + "self_attn.o_proj.bias", d, R::Bias), l.attn_proj_bias);
}

// Multi-head latent attention (kvscope's own names; DeepSeek-V2 packs W_dkv and W_kr as
// kv_a_proj_with_mqa and W_uk, W_uv as kv_b_proj): Q as Llama's, the latent down-projection, the
// shared rotary key, the two up-projections, O.
template <class Layer, class Visit>
void visit_mla_projections(const ModelConfig& c, const std::string& h, Layer& l, Visit&& visit) {
  using namespace table;
  const int d = c.d_model, q = c.q_dim(), r = c.kv_lora_rank;
  visit(matrix(h + "self_attn.q_proj.weight", q, d, R::Linear, I::Normal), l.attn_q);
  visit(matrix(h + "self_attn.kv_down_proj.weight", r, d, R::Linear, I::Normal), l.attn_kv_down);
  visit(matrix(h + "self_attn.k_rope_proj.weight", c.qk_rope_dim, d, R::Linear, I::Normal), l.attn_k_rope);
  visit(matrix(h + "self_attn.k_up_proj.weight", c.n_head * c.qk_nope_dim(), r, R::Linear, I::Normal), l.attn_k_up);
  visit(matrix(h + "self_attn.v_up_proj.weight", q, r, R::Linear, I::Normal), l.attn_v_up);
  visit(matrix(h + "self_attn.o_proj.weight", d, q, R::Linear, I::Residual), l.attn_proj);
}

// Llama family (llama, mistral, qwen2, qwen3, kvscope_mla): RMSNorm gains only, separate Q/K/V
// projections ([out, in] as nn.Linear stores them) or MLA's, optional q/k/v biases and per-head q/k
// norms, SwiGLU MLP.
template <class Weights, class Visit>
void visit_llama_tensors(const ModelConfig& c, Weights& w, Visit&& visit) {
  using namespace table;
  const int d = c.d_model, f = c.d_ff();
  visit(matrix("model.embed_tokens.weight", c.vocab_size, d, R::TokenEmbedding, I::Normal), w.token_embedding);
  for (int i = 0; i < c.n_layer; ++i) {
    auto& l = w.layers[i];
    const std::string h = "model.layers." + std::to_string(i) + ".";
    visit(vec(h + "input_layernorm.weight", d, R::NormGain), l.ln_1_gamma);
    if (c.mla())
      visit_mla_projections(c, h, l, visit);
    else
      visit_attention_projections(c, h, {c.qkv_bias, c.out_bias, c.qk_norm, R::NormGain}, l, visit);
    visit(vec(h + "post_attention_layernorm.weight", d, R::NormGain), l.ln_2_gamma);
    visit(matrix(h + "mlp.gate_proj.weight", f, d, R::Linear, I::Normal), l.mlp_gate);
    visit(matrix(h + "mlp.up_proj.weight", f, d, R::Linear, I::Normal), l.mlp_up);
    visit(matrix(h + "mlp.down_proj.weight", d, f, R::Linear, I::Residual), l.mlp_proj);
  }
  visit(vec("model.norm.weight", d, R::NormGain), w.ln_f_gamma);
  visit(output_head(c), w.lm_head);
}

// Gemma 3 (gemma3_text): the Llama names plus q/k norms and four norms per block, every norm an
// RMSNorm whose stored weight w is applied as 1 + w. Note the names: Gemma's post_attention_layernorm
// normalises the attention output (Llama's is the norm before the MLP: pre_feedforward_layernorm here).
template <class Weights, class Visit>
void visit_gemma3_tensors(const ModelConfig& c, Weights& w, Visit&& visit) {
  using namespace table;
  const int d = c.d_model, f = c.d_ff();
  visit(matrix("model.embed_tokens.weight", c.vocab_size, d, R::TokenEmbedding, I::Normal), w.token_embedding);
  for (int i = 0; i < c.n_layer; ++i) {
    auto& l = w.layers[i];
    const std::string h = "model.layers." + std::to_string(i) + ".";
    visit(vec(h + "input_layernorm.weight", d, R::NormOffset), l.ln_1_gamma);
    visit_attention_projections(c, h, {false, false, true, R::NormOffset}, l, visit);  // no biases in Gemma 3
    visit(vec(h + "post_attention_layernorm.weight", d, R::NormOffset), l.post_attn_norm);
    visit(vec(h + "pre_feedforward_layernorm.weight", d, R::NormOffset), l.ln_2_gamma);
    visit(matrix(h + "mlp.gate_proj.weight", f, d, R::Linear, I::Normal), l.mlp_gate);
    visit(matrix(h + "mlp.up_proj.weight", f, d, R::Linear, I::Normal), l.mlp_up);
    visit(matrix(h + "mlp.down_proj.weight", d, f, R::Linear, I::Residual), l.mlp_proj);
    visit(vec(h + "post_feedforward_layernorm.weight", d, R::NormOffset), l.post_mlp_norm);
  }
  visit(vec("model.norm.weight", d, R::NormOffset), w.ln_f_gamma);
  visit(output_head(c), w.lm_head);
}

// The name prefix of a block's tensors, before its index ("h.3.ln_1.weight", "model.layers.3...").
inline std::string layer_name_prefix(const ModelConfig& c) {
  return c.traits().layer_prefix;
}

// Every tensor of the config's family: the one place a family's name picks code, beside its row of
// traits (family.cpp). The switch has no default, so a new ModelFamily without a table does not
// compile (-Werror=switch).
template <class Weights, class Visit>
void visit_tensors(const ModelConfig& c, Weights& w, Visit&& visit) {
  switch (c.family) {
    case ModelFamily::Gpt2: visit_gpt2_tensors(c, w, visit); return;
    case ModelFamily::Llama: visit_llama_tensors(c, w, visit); return;
    case ModelFamily::Gemma3: visit_gemma3_tensors(c, w, visit); return;
  }
}

}  // namespace kvscope
