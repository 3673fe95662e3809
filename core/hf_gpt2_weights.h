#pragma once
// read_hf_gpt2_weights: a Hugging Face GPT2LMHeadModel model.safetensors -> ModelWeights.
// Names: wte, wpe, h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}.{weight,bias},
// ln_f.{weight,bias}, optionally all behind "transformer."; lm_head.weight when the head is not
// tied to wte. Conv1D weights are stored [in, out] and transposed to kvscope's [out, in] as they
// are read; Q|K|V stay packed in that order. Buffers (h.N.attn.bias, h.N.attn.masked_bias) and
// other extra tensors are skipped.
#include <string>

#include "core/config.h"
#include "core/safetensors.h"
#include "core/weights.h"

namespace kvscope {

// Reads each tensor once, converting F32/F16/BF16 straight into the weight matrices. Throws
// DataError naming the file: any SafetensorsFile problem, a missing tensor, a shape that
// disagrees with config.json, or a layer past n_layer.
ModelWeights read_hf_gpt2_weights(const std::string& safetensors_path, const ModelConfig& config);
ModelWeights read_hf_gpt2_weights(const SafetensorsFile& file, const ModelConfig& config);

}  // namespace kvscope
