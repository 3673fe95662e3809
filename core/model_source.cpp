#include "core/model_source.h"

#include "core/config.h"
#include "core/embedded_demo_model.h"
#include "core/hf_config.h"
#include "core/hf_gpt2_weights.h"
#include "core/id_tokenizer.h"
#include "core/safetensors.h"
#include "core/weights.h"
#include "core/word_tokenizer.h"

namespace kvscope {

namespace {
LoadedModel load_embedded_demo() {
  const ModelConfig config = parse_hf_config(embedded_demo_config().text(), "built-in demo config.json");
  const EmbeddedFile weights = embedded_demo_weights();
  const SafetensorsFile file("built-in demo model.safetensors", weights.data, weights.size);
  LoadedModel loaded;
  loaded.name = "demo";
  loaded.tokenizer = std::make_shared<WordTokenizer>(
      WordTokenizer::parse_word_list(embedded_demo_vocab().text(), "built-in demo vocab.txt"));
  loaded.model = std::make_shared<Model>(config, read_hf_gpt2_weights(file, config));
  return loaded;
}
}  // namespace

LoadedModel load_preset(const std::string& name) {
  if (name == "demo") return load_embedded_demo();
  ModelConfig config = preset_config(name);
  LoadedModel loaded;
  loaded.name = name;
  loaded.tokenizer = std::make_shared<IdTokenizer>(config.vocab_size);
  loaded.model = std::make_shared<Model>(config, random_weights(config, kPresetSeed));
  return loaded;
}

}  // namespace kvscope
