#pragma once
// read_hf_weights: a Hugging Face model.safetensors -> ModelWeights, by the family's tensor table
// (core/engine/model/tensor_table.h). Names may all sit behind "transformer." (GPT-2's save_pretrained),
// except the output head; an untied head (lm_head.weight) is read when the file has one. Conv1D
// weights are transposed to kvscope's [out, in] as they are read. Buffers (GPT-2's h.N.attn.bias)
// and other extra tensors are skipped.
#include <string>

#include "core/engine/model/config.h"
#include "core/engine/model/weights.h"
#include "core/formats/safetensors.h"

namespace kvscope {

// Reads each tensor once: matrices keep the file's F32, F16 or BF16 (weight_matrix.h), vectors are
// converted to float32. Throws
// DataError naming the file: any SafetensorsFile problem, a missing tensor, a shape that
// disagrees with config.json, or a layer past the config's layer count.
ModelWeights read_hf_weights(const std::string& safetensors_path, const ModelConfig& config);
ModelWeights read_hf_weights(const SafetensorsFile& file, const ModelConfig& config);

// Gemma multiplies embeddings by sqrt(hidden) cast to the weights' dtype, as Hugging Face does
// (sqrt(640) = 25.2982 is 25.25 in BF16): rounds config.embed_scale to the dtype the file stores the
// token embedding in (F16 or BF16; F32 keeps it). Nothing changes without an embed_scale.
void round_embed_scale(ModelConfig& config, const SafetensorsFile& file);

}  // namespace kvscope
