#pragma once
// read_hf_config: a Hugging Face GPT-2 config.json -> ModelConfig.
// Reads n_embd, n_head, n_layer, n_positions (or n_ctx), vocab_size and, optionally,
// layer_norm_epsilon (default 1e-5); every other key is ignored.
#include <string>

#include "core/config.h"

namespace kvscope {

// Throws DataError naming the file and the field that is missing, of the wrong type or out of
// range (the config is validated before it is returned).
ModelConfig read_hf_config(const std::string& path);
// The same from the file's text; `name` stands in for the path in messages.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& name);

}  // namespace kvscope
