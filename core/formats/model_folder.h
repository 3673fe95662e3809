#pragma once
// load_model_folder: a Hugging Face model folder (GPT-2 family: gpt2, distilgpt2, gpt2-medium... or
// one kvscope's trainer wrote; Llama family: Llama 3, SmolLM2, Mistral, Qwen2, Qwen3) -> LoadedModel.
//   config.json        shape of the model (read_hf_config)
//   model.safetensors  weights, F32/F16/BF16 (read_hf_weights)
//   tokenizer          vocab.json + merges.txt: GPT-2 byte-level BPE;
//                      else vocab.txt (one word per line, line i = id i): WordTokenizer;
//                      else none (IdTokenizer: prompts as ids).
#include <memory>
#include <string>

#include "core/formats/model_source.h"
#include "core/engine/session/tokenizer.h"

namespace kvscope {

// Throws DataError naming the file and the problem; "model folder X does not exist" first.
LoadedModel load_model_folder(const std::string& dir);

// Only the tokenizer of a folder (for `kvscope-cli tokenize --model`); vocab_size comes from
// config.json and bounds the vocabulary files' ids.
std::shared_ptr<const Tokenizer> load_folder_tokenizer(const std::string& dir);

}  // namespace kvscope
