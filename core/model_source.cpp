#include "core/model_source.h"

#include "core/config.h"
#include "core/id_tokenizer.h"
#include "core/weights.h"
#include "core/word_tokenizer.h"

namespace kvscope {

const std::vector<std::string>& demo_vocabulary() {
  static const std::vector<std::string> words = {
      ".", ",", "Time", "flies", "fast", "like", "an", "arrow", "fruit", "a", "banana", "the", "He", "had",
      "to", "duck", "when", "flew", "at", "him", "She", "saw", "her", "It", "is", "was", "and", "slow",
      "time", "we", "have", "no", "for", "this", "in", "class", "cache", "keys", "values", "rows", "every",
      "token", "step", "new", "old", "reads", "writes", "one", "two", "position", "model", "of", "on",
      "by", "sun", "rises", "sets", "birds", "sing", "river", "runs", "water", "clock", "ticks", "day",
      "night", "goes", "so", "very", "quickly"};
  return words;
}

LoadedModel load_preset(const std::string& name) {
  ModelConfig config = preset_config(name);
  LoadedModel loaded;
  loaded.name = name;
  if (name == "demo") {
    auto tokenizer = std::make_shared<WordTokenizer>(demo_vocabulary());
    config.vocab_size = tokenizer->vocab_size();
    loaded.tokenizer = tokenizer;
  } else {
    loaded.tokenizer = std::make_shared<IdTokenizer>(config.vocab_size);
  }
  loaded.model = std::make_shared<Model>(config, random_weights(config, kPresetSeed));
  return loaded;
}

}  // namespace kvscope
