#pragma once
// save_model_folder: a trained word-level model -> a Hugging Face GPT-2 folder that
// load_model_folder (and transformers' GPT2LMHeadModel) opens:
//   config.json        n_embd, n_head, n_layer, n_positions, vocab_size, layer_norm_epsilon, ...
//   model.safetensors  every tensor of the family's table (core/engine/model/tensor_table.h) under
//                      its Hugging Face name; Conv1D weights stored [in, out]. A tied head has no
//                      tensor of its own. Matrices keep the dtype they are held in (F32 after
//                      training), vectors are F32.
//   vocab.txt          one word per line, line i = token id i
// The folder appears whole or not at all: the files are written into a temporary folder beside it,
// which is then renamed.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/model/config.h"
#include "core/engine/model/weights.h"

namespace kvscope {

struct SaveFolderOptions {
  bool replace_existing = false;  // replace a model folder (one with config.json) already at dir
  nlohmann::json extra_config;    // more keys for config.json (e.g. how the model was trained)
  std::string tokenizer_json;     // a BPE model's tokenizer.json text: written instead of vocab.txt
};

// Throws UsageError when save_model_folder would refuse dir: dir or its nearest existing ancestor
// is a file, or dir is a folder with files
// and either replace_existing is false or it is not a model folder (no config.json): replacing
// deletes what is there. Lets a caller refuse before spending time on training.
void check_save_target(const std::string& dir, bool replace_existing);

// Throws UsageError when check_save_target does, when the vocabulary
// does not match config.vocab_size or a word cannot be one line of vocab.txt; DataError naming the
// path when writing fails (dir is then left as it was).
// With options.tokenizer_json set, vocabulary is ignored and tokenizer.json is written.
void save_model_folder(const std::string& dir, const ModelConfig& config, const ModelWeights& weights,
                       const std::vector<std::string>& vocabulary, const SaveFolderOptions& options = {});

}  // namespace kvscope
