#pragma once
// ParameterLayout: every trainable tensor of a model (GPT-2, or Llama (MHA/GQA or MLA) without biases or q/k norms,
// tied head) packed into one flat buffer, in a
// fixed order (as in karpathy/llm.c). The optimiser, gradient clipping, the gradient check and the
// determinism test then work on plain arrays; the forward and backward passes view slices of the
// buffer as matrices. Gradients use the same layout as the parameters.
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/model/weights.h"

namespace kvscope {

struct TensorSlot {
  std::string name;     // "h.0.attn_qkv", "wte", ... (the field names of ModelWeights)
  std::int64_t offset;  // first value in the flat buffer
  int rows, cols;       // row-major; vectors are [n, 1]
  bool decay;           // weight decay applies (matrices and embeddings, not gains or biases)
  std::int64_t size() const { return std::int64_t(rows) * cols; }
};

// Offsets of one block's tensors; shapes as in LayerWeights ([out, in] for linear weights).
// kNoSlot where the family has no such tensor.
constexpr std::int64_t kNoSlot = -1;
struct LayerSlots {
  std::int64_t ln_1_gamma, ln_1_beta;  // [d]
  std::int64_t attn_qkv;               // GPT-2 [3d, d]
  std::int64_t attn_qkv_bias;          // GPT-2 [3d]
  std::int64_t attn_q, attn_k, attn_v; // Llama [q_dim, d], [kv_dim, d], [kv_dim, d]
  std::int64_t attn_kv_down, attn_k_rope;  // MLA [r, d], [rope, d]
  std::int64_t attn_k_up, attn_v_up;       // MLA [heads x nope, r], [q_dim, r]
  std::int64_t attn_proj;              // [d, q_dim]
  std::int64_t attn_proj_bias;         // GPT-2 [d]
  std::int64_t ln_2_gamma, ln_2_beta;  // [d]
  std::int64_t mlp_fc;                 // GPT-2 [4d, d]
  std::int64_t mlp_fc_bias;            // GPT-2 [4d]
  std::int64_t mlp_gate, mlp_up;       // Llama [d_ff, d]
  std::int64_t mlp_proj;               // [d, d_ff]
  std::int64_t mlp_proj_bias;          // GPT-2 [d]
};

struct ParameterLayout {
  ModelConfig config;
  std::int64_t wte = 0;  // [vocab, d], also the output head (tied)
  std::int64_t wpe = 0;  // [context, d]; kNoSlot with rotary positions
  std::vector<LayerSlots> layers;
  std::int64_t ln_f_gamma = 0, ln_f_beta = 0;  // [d]
  std::vector<TensorSlot> tensors;             // all of the above, in buffer order
  std::int64_t size = 0;                       // values in the buffer
};

// Throws UsageError for an invalid config.
ParameterLayout make_layout(const ModelConfig& config);

// The layouts the trainer's hand-written forward and backward implement: GPT-2's (learned positions,
// LayerNorm, fused QKV, GELU MLP) and Llama's (rotary, RMSNorm, separate Q/K/V, SiLU-gated MLP).
inline bool trainer_implements(const FamilyTraits& f) {
  const bool gpt2 = f.positions == PositionKind::Learned && f.norm == NormKind::LayerNorm && f.qkv == QkvLayout::Fused &&
                    f.mlp == MlpKind::Gelu;
  const bool llama = f.positions == PositionKind::Rotary && f.norm == NormKind::RmsNorm && f.qkv == QkvLayout::Separate &&
                     f.mlp == MlpKind::SiluGated && !f.norm_gain_offset && !f.sandwich_norms;
  return gpt2 || llama;
}

// ModelWeights <-> flat buffer. The model must have a tied head (no separate lm_head).
std::vector<float> flatten(const ModelWeights& weights, const ParameterLayout& layout);
ModelWeights unflatten(const std::vector<float>& params, const ParameterLayout& layout);

}  // namespace kvscope
