#pragma once
// ModelWeights: every tensor of a model. Matrices keep the dtype their file stored them in
// (weight_matrix.h: BF16 and F16 stay 16-bit); vectors (norms, biases: a few KB) are float32.
// Which fields a family uses, and their Hugging Face names, is its table in
// core/engine/model/tensor_table.h; unused fields stay empty.
// Linear weights are stored [out, in] (PyTorch nn.Linear layout): y = W x streams each row once,
// which is what cached decode wants. Hugging Face Conv1D tensors ([in, out]) are transposed at load.
#include <cstdint>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/kernels/tensor.h"
#include "core/engine/kernels/weight_matrix.h"

namespace kvscope {

// One struct with every family's fields, on purpose: a family's tensor table (tensor_table.h) hands
// each visitor a reference to the field a tensor fills, so allocation, random init, shape checks,
// parameter and byte counts, dtype conversion, reading, writing and the trainer's flat buffer are each
// one generic loop that never names a family. Per-family structs would need a variant and a copy of
// each of those loops per family; a field a family does not use stays empty and costs nothing.
struct LayerWeights {
  Vector ln_1_gamma, ln_1_beta;  // [d_model] norm before attention (Llama: RMSNorm, no beta)
  // GPT-2: fused projections.
  WeightMatrix attn_qkv;         // [3*d_model, d_model]: rows 0..d-1 make Q, then K, then V
  Vector attn_qkv_bias;          // [3*d_model] (zeros when the config has no QKV bias)
  // Llama: separate projections, K and V narrower under grouped-query attention.
  WeightMatrix attn_q;           // [q_dim, d_model]
  WeightMatrix attn_k, attn_v;   // [kv_dim, d_model]
  Vector attn_q_bias;            // [q_dim] (Qwen2)
  Vector attn_k_bias, attn_v_bias;  // [kv_dim] (Qwen2)
  Vector q_norm, k_norm;         // [d_head] RMSNorm gains per head (Qwen3, Gemma 3)
  // MLA (ModelConfig::mla): attn_q as above; K and V come from a cached latent instead of attn_k/attn_v.
  WeightMatrix attn_kv_down;           // [kv_lora_rank, d_model] W_dkv: the latent row c that is cached
  WeightMatrix attn_k_rope;            // [qk_rope_dim, d_model] W_kr: the shared key part that is rotated and cached
  WeightMatrix attn_k_up;              // [n_head * qk_nope_dim, kv_lora_rank] W_uk: c -> the other K dims of every head
  WeightMatrix attn_v_up;              // [n_head * d_head, kv_lora_rank] W_uv: c -> V of every head
  WeightMatrix attn_proj;        // [d_model, q_dim] output projection
  Vector attn_proj_bias;         // [d_model]
  Vector post_attn_norm;         // [d_model] Gemma 3: norm of the attention output before the residual add
  Vector post_mlp_norm;          // [d_model] Gemma 3: norm of the MLP output before the residual add
  Vector ln_2_gamma, ln_2_beta;  // [d_model] norm before the MLP
  WeightMatrix mlp_fc;           // [d_ff, d_model] GPT-2: up projection
  Vector mlp_fc_bias;            // [d_ff]
  WeightMatrix mlp_gate, mlp_up;  // [d_ff, d_model] Llama: SwiGLU's gate and up projections
  WeightMatrix mlp_proj;         // [d_model, d_ff] down projection
  Vector mlp_proj_bias;          // [d_model]
};

struct ModelWeights {
  WeightMatrix token_embedding;     // wte [vocab_size, d_model]; also the output head unless lm_head is set
  WeightMatrix position_embedding;  // wpe [context_length, d_model] (learned positions only)
  std::vector<LayerWeights> layers;
  Vector ln_f_gamma, ln_f_beta;     // [d_model]
  WeightMatrix lm_head;             // [vocab_size, d_model] or empty when tied to token_embedding

  const WeightMatrix& output_head() const { return lm_head.size() ? lm_head : token_embedding; }
};

// Zero-filled tensors of the right shapes (norm gains set to one); no untied head.
ModelWeights allocate_weights(const ModelConfig& config);

// GPT-2-style initialisation, N(0, 0.02) with scaled residual projections, from a fixed seed:
// the same seed gives the same weights on every machine (own generator, not std::normal_distribution).
// Matrices are then held in `dtype` (F16 and BF16 rounded as convert_weights does).
ModelWeights random_weights(const ModelConfig& config, std::uint64_t seed, WeightDtype dtype = WeightDtype::F32);

// Throws DataError naming the first tensor whose shape disagrees with the config.
void check_shapes(const ModelWeights& weights, const ModelConfig& config);

// Bytes the tensors take as held: 2 per 16-bit matrix value, 4 per float32 value.
std::int64_t weight_bytes(const ModelWeights& weights, const ModelConfig& config);

// Bytes of weights one decode step reads, as held: every layer tensor, the final norm, the output head
// and one row of each embedding table (a head tied to the token table reads that table whole). A step
// reads these plus the cache rows its attention reads.
double decode_weight_bytes(const ModelWeights& weights, const ModelConfig& config);

// Every matrix converted to `dtype` (WeightMatrix::converted), one at a time so memory never holds
// two copies of the model: BF16 gives what a BF16 checkpoint would hold. Vectors stay float32.
void convert_weights(ModelWeights& weights, const ModelConfig& config, WeightDtype dtype);

// Parameters of the config's tensors (the output head counted only when untied), from the table.
std::int64_t parameter_count(const ModelConfig& config);

}  // namespace kvscope
