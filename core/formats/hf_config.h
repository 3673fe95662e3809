#pragma once
// read_hf_config: a Hugging Face config.json -> ModelConfig, by model_type (absent: gpt2).
//   gpt2: n_embd, n_head, n_layer, n_positions (or n_ctx), vocab_size, layer_norm_epsilon (1e-5),
//         tie_word_embeddings (true)
//   llama, mistral, qwen2, qwen3: hidden_size, intermediate_size, num_attention_heads,
//         num_key_value_heads (= heads), head_dim (= hidden / heads), num_hidden_layers, vocab_size,
//         max_position_embeddings, rms_norm_eps, rope_theta, rope_scaling (null or llama3),
//         tie_word_embeddings (false), attention_bias; qwen2 adds q/k/v biases, qwen3 q/k norms
//   gemma3_text (or gemma3 with a text_config): the Llama fields plus layer_types (or
//         sliding_window_pattern, default 6), sliding_window, rope_theta (global layers) and
//         rope_local_base_freq (local), query_pre_attn_scalar, attn/final_logit_softcapping (null),
//         tie_word_embeddings (true); rope_scaling null or linear
//   kvscope_mla: the llama fields plus kv_lora_rank and qk_rope_head_dim (multi-head latent attention,
//         kvscope's own layout: core/engine/model/config.h)
// Every other key is ignored; any other model_type is refused by name.
#include <string>

#include "core/engine/model/config.h"

namespace kvscope {

// Throws DataError naming the file and the field that is missing, of the wrong type or out of
// range (the config is validated before it is returned).
ModelConfig read_hf_config(const std::string& path);
// The same from the file's text; `name` stands in for the path in messages.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& name);

}  // namespace kvscope
