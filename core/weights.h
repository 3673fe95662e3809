#pragma once
// ModelWeights: every tensor of a GPT-2-style model, held as float32.
// Linear weights are stored [out, in] (PyTorch nn.Linear layout): y = W x streams each row once,
// which is what cached decode wants. Hugging Face Conv1D tensors ([in, out]) are transposed at load.
#include <cstdint>
#include <vector>

#include "core/config.h"
#include "core/tensor.h"

namespace kvscope {

struct LayerWeights {
  Vector ln_1_gamma, ln_1_beta;  // [d_model]
  Matrix attn_qkv;               // [3*d_model, d_model]: rows 0..d-1 make Q, then K, then V
  Vector attn_qkv_bias;          // [3*d_model] (zeros when the config has no QKV bias)
  Matrix attn_proj;              // [d_model, d_model]
  Vector attn_proj_bias;         // [d_model]
  Vector ln_2_gamma, ln_2_beta;  // [d_model]
  Matrix mlp_fc;                 // [4*d_model, d_model]
  Vector mlp_fc_bias;            // [4*d_model]
  Matrix mlp_proj;               // [d_model, 4*d_model]
  Vector mlp_proj_bias;          // [d_model]
};

struct ModelWeights {
  Matrix token_embedding;     // wte [vocab_size, d_model]; also the output head unless lm_head is set
  Matrix position_embedding;  // wpe [context_length, d_model]
  std::vector<LayerWeights> layers;
  Vector ln_f_gamma, ln_f_beta;  // [d_model]
  Matrix lm_head;                // [vocab_size, d_model] or empty when tied to token_embedding

  const Matrix& output_head() const { return lm_head.size() ? lm_head : token_embedding; }
};

// Zero-filled tensors of the right shapes (LayerNorm gains set to one).
ModelWeights allocate_weights(const ModelConfig& config);

// GPT-2-style initialisation, N(0, 0.02) with scaled residual projections, from a fixed seed:
// the same seed gives the same weights on every machine (own generator, not std::normal_distribution).
ModelWeights random_weights(const ModelConfig& config, std::uint64_t seed);

// Throws DataError naming the first tensor whose shape disagrees with the config.
void check_shapes(const ModelWeights& weights, const ModelConfig& config);

std::int64_t weight_bytes(const ModelWeights& weights);

}  // namespace kvscope
