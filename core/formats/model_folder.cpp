#include "core/formats/model_folder.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/tokenizers/bpe_tokenizer.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"
#include "core/formats/hf_config.h"
#include "core/formats/hf_weights.h"
#include "core/tokenizers/id_tokenizer.h"
#include "core/tokenizers/word_tokenizer.h"

namespace kvscope {

namespace fs = std::filesystem;

namespace {
fs::path checked_folder(const std::string& dir) {
  std::error_code error;
  const fs::path path(dir);
  if (!fs::exists(path, error)) throw DataError("model folder " + dir + " does not exist");
  if (!fs::is_directory(path, error)) throw DataError("model folder " + dir + " is not a folder");
  return path;
}

std::vector<std::string> read_word_list(const std::string& path) {
  return WordTokenizer::parse_word_list(read_text_file(path, "the word list"), path);
}

std::shared_ptr<const Tokenizer> folder_tokenizer(const fs::path& dir, int vocab_size) {
  const fs::path vocab_json = dir / "vocab.json", merges_txt = dir / "merges.txt", vocab_txt = dir / "vocab.txt";
  std::error_code error;  // an entry that cannot even be checked counts as absent
  const bool has_vocab_json = fs::exists(vocab_json, error), has_merges = fs::exists(merges_txt, error);
  const fs::path tokenizer_json = dir / "tokenizer.json";  // Hugging Face's single file wins when present
  std::shared_ptr<const Tokenizer> tokenizer;
  std::string source;
  if (fs::exists(tokenizer_json, error)) {
    tokenizer = std::make_shared<HfTokenizer>(HfTokenizer::from_file(tokenizer_json.string()));
    source = tokenizer_json.string();
  } else if (has_vocab_json || has_merges) {
    if (!has_vocab_json) throw DataError(merges_txt.string() + ": found without vocab.json beside it");
    if (!has_merges) throw DataError(vocab_json.string() + ": found without merges.txt beside it");
    tokenizer = std::make_shared<BpeTokenizer>(BpeTokenizer::from_files(vocab_json.string(), merges_txt.string()));
    source = vocab_json.string();
  } else if (fs::exists(vocab_txt, error)) {
    tokenizer = std::make_shared<WordTokenizer>(read_word_list(vocab_txt.string()));
    source = vocab_txt.string();
  } else {
    return std::make_shared<IdTokenizer>(vocab_size);
  }
  // Added tokens past the model's vocabulary (Gemma 3's image tokens) are allowed: a text that names
  // one is refused by id when it is fed.
  const auto* hf = dynamic_cast<const HfTokenizer*>(tokenizer.get());
  const int needed = hf ? hf->model_vocab_size() : tokenizer->vocab_size();
  if (needed > vocab_size)
    throw DataError(source + ": has " + std::to_string(needed) +
                    " tokens, but config.json has vocab_size = " + std::to_string(vocab_size));
  return tokenizer;
}
}  // namespace

std::shared_ptr<const Tokenizer> load_folder_tokenizer(const std::string& dir) {
  const fs::path folder = checked_folder(dir);
  return folder_tokenizer(folder, read_hf_config((folder / "config.json").string()).vocab_size);
}

LoadedModel load_model_folder(const std::string& dir) {
  const fs::path folder = checked_folder(dir);
  ModelConfig config = read_hf_config((folder / "config.json").string());
  LoadedModel loaded;
  loaded.tokenizer = folder_tokenizer(folder, config.vocab_size);  // cheap checks before the big read
  const SafetensorsFile weights((folder / "model.safetensors").string());
  round_embed_scale(config, weights);
  loaded.model = std::make_shared<Model>(config, read_hf_weights(weights, config));
  std::error_code error;
  const fs::path name = fs::absolute(folder, error).lexically_normal();
  loaded.name = name.has_filename() ? name.filename().string() : name.parent_path().filename().string();
  return loaded;
}

}  // namespace kvscope
