#include "core/formats/model_source.h"

#include "core/engine/config.h"
#include "core/formats/embedded_models.h"
#include "core/formats/hf_config.h"
#include "core/formats/hf_weights.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "core/tokenizers/id_tokenizer.h"
#include "core/formats/safetensors.h"
#include "core/engine/weights.h"
#include "core/tokenizers/word_tokenizer.h"

namespace kvscope {

namespace {
LoadedModel load_embedded_demo() {
  const std::vector<EmbeddedFile>& files = embedded_demo_model();
  const ModelConfig config = parse_hf_config(find_embedded(files, "config.json")->text(), "built-in demo config.json");
  const EmbeddedFile& weights = *find_embedded(files, "model.safetensors");
  const SafetensorsFile file("built-in demo model.safetensors", weights.data, weights.size);
  LoadedModel loaded;
  loaded.name = "demo";
  loaded.tokenizer = std::make_shared<WordTokenizer>(
      WordTokenizer::parse_word_list(find_embedded(files, "vocab.txt")->text(), "built-in demo vocab.txt"));
  loaded.model = std::make_shared<Model>(config, read_hf_weights(file, config));
  return loaded;
}
LoadedModel load_embedded_demo_llama() {
  const std::vector<EmbeddedFile>& files = embedded_demo_llama_model();
  const ModelConfig config =
      parse_hf_config(find_embedded(files, "config.json")->text(), "built-in demo-llama config.json");
  const EmbeddedFile& weights = *find_embedded(files, "model.safetensors");
  const SafetensorsFile file("built-in demo-llama model.safetensors", weights.data, weights.size);
  LoadedModel loaded;
  loaded.name = "demo-llama";
  loaded.tokenizer = std::make_shared<HfTokenizer>(
      HfTokenizer::from_text(find_embedded(files, "tokenizer.json")->text(), "built-in demo-llama tokenizer.json"));
  loaded.model = std::make_shared<Model>(config, read_hf_weights(file, config));
  return loaded;
}
}  // namespace

LoadedModel load_preset(const std::string& name) {
  if (name == "demo") return load_embedded_demo();
  if (name == "demo-llama") return load_embedded_demo_llama();
  ModelConfig config = preset_config(name);
  LoadedModel loaded;
  loaded.name = name;
  loaded.tokenizer = std::make_shared<IdTokenizer>(config.vocab_size);
  loaded.model = std::make_shared<Model>(config, random_weights(config, kPresetSeed));
  return loaded;
}

}  // namespace kvscope
