#include "core/formats/model_source.h"

#include "core/engine/model/config.h"
#include "core/formats/embedded_models.h"
#include "core/formats/hf_config.h"
#include "core/formats/hf_weights.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "core/tokenizers/id_tokenizer.h"
#include "core/formats/safetensors.h"
#include "core/engine/model/weights.h"
#include "core/tokenizers/word_tokenizer.h"

namespace kvscope {

namespace {
// A built-in model from its compiled-in Hugging Face files: config.json, model.safetensors and the
// tokenizer file `tokenizer_file`, read by `make_tokenizer(text, name)`, from `tokenizer_of` (another
// built-in model whose tokenizer this one shares) or else from its own files.
template <class MakeTokenizer>
LoadedModel load_embedded(const std::vector<EmbeddedFile>& files, const std::string& name,
                          const std::string& tokenizer_file, MakeTokenizer make_tokenizer,
                          const std::vector<EmbeddedFile>* tokenizer_of = nullptr, const std::string& owner = "") {
  const std::string prefix = "built-in " + name + " ";
  const ModelConfig config = parse_hf_config(find_embedded(files, "config.json")->text(), prefix + "config.json");
  const EmbeddedFile& weights = *find_embedded(files, "model.safetensors");
  const SafetensorsFile file(prefix + "model.safetensors", weights.data, weights.size);
  LoadedModel loaded;
  loaded.name = name;
  loaded.tokenizer = tokenizer_of ? make_tokenizer(find_embedded(*tokenizer_of, tokenizer_file.c_str())->text(),
                                                   "built-in " + owner + " " + tokenizer_file)
                                  : make_tokenizer(find_embedded(files, tokenizer_file.c_str())->text(), prefix + tokenizer_file);
  loaded.model = std::make_shared<Model>(config, read_hf_weights(file, config));
  return loaded;
}
}  // namespace

const std::vector<PresetInfo>& builtin_presets() {
  static const std::vector<PresetInfo> presets = {
      {"demo", "GPT-2 style, learned positions, the default",
       "GPT-2 style: learned positions, 4 heads each with its own K/V; word vocabulary"},
      {"demo-llama", "RoPE, grouped-query attention, any text",
       "Llama style: rotary positions, 4 query heads sharing 2 KV heads; any text (byte-level BPE)"},
      {"demo-llama-draft", "demo-llama's draft: 1 layer, a quarter wide",
       "demo-llama's draft for speculative decoding: the same tokenizer and corpus, 1 layer, a quarter of the width"},
      {"demo-mla", "multi-head latent attention, any text",
       "Latent attention (MLA): caches one small latent row per position, rebuilds K and V from it"},
      {"gemma3-layout", "Gemma 3's local and global layers, random weights",
       "Gemma 3's layout, random weights: local layers (window 4) and global layers"},
      {"long-demo", "a small Llama-style shape, random weights, 8,192 positions",
       "A small Llama-style shape, random weights: 8,192 positions, the cache outgrows the weights at about 3,200"},
      {"gpt2-small", "GPT-2 124M's shape, random weights, token ids",
       "GPT-2 124M's shape, random weights: real sizes and timings; prompts as token ids"},
      {"smollm2-135m", "SmolLM2-135M's shape, random weights, token ids, 8,192 positions",
       "SmolLM2-135M's shape, random weights: 30 layers, 3 KV heads, 8,192 positions; prompts as token ids", true},
      {"qwen3-0.6b", "Qwen3-0.6B's shape, random weights, token ids, 40,960 positions",
       "Qwen3-0.6B's shape, random weights (2.4 GB): 28 layers, 8 KV heads, q/k norms; prompts as token ids", true},
  };
  return presets;
}

std::string presets_help() {
  std::string s;
  for (const PresetInfo& p : builtin_presets()) s += (s.empty() ? "" : ", ") + p.name + " (" + p.summary + ")";
  return s;
}

LoadedModel load_preset(const std::string& name, WeightDtype random_dtype) {
  if (name == "demo")
    return load_embedded(embedded_demo_model(), name, "vocab.txt", [](const std::string& text, const std::string& where) {
      return std::make_shared<WordTokenizer>(WordTokenizer::parse_word_list(text, where));
    });
  auto hf_tokenizer = [](const std::string& text, const std::string& where) {
    return std::make_shared<HfTokenizer>(HfTokenizer::from_text(text, where));
  };
  if (name == "demo-llama") return load_embedded(embedded_demo_llama_model(), name, "tokenizer.json", hf_tokenizer);
  if (name == "demo-llama-draft")  // a draft and its target share one tokenizer
    return load_embedded(embedded_demo_llama_draft_model(), name, "tokenizer.json", hf_tokenizer,
                         &embedded_demo_llama_model(), "demo-llama");
  if (name == "demo-mla") return load_embedded(embedded_demo_mla_model(), name, "tokenizer.json", hf_tokenizer);
  // A real model's config.json with seeded random weights: gemma3-layout and long-demo (demo-llama's
  // tokenizer, so they read any text), smollm2-135m and qwen3-0.6b (prompts as token ids).
  auto random_preset = [&](const std::vector<EmbeddedFile>& files, bool text_tokenizer) {
    LoadedModel loaded;
    loaded.name = name;
    const ModelConfig config = parse_hf_config(find_embedded(files, "config.json")->text(), "built-in " + name + " config.json");
    if (text_tokenizer)
      loaded.tokenizer = hf_tokenizer(find_embedded(embedded_demo_llama_model(), "tokenizer.json")->text(),
                                      "built-in demo-llama tokenizer.json");
    else
      loaded.tokenizer = std::make_shared<IdTokenizer>(config.vocab_size);
    loaded.model = std::make_shared<Model>(config, random_weights(config, kPresetSeed, random_dtype));
    return loaded;
  };
  if (name == "gemma3-layout") return random_preset(embedded_gemma3_layout_model(), true);
  if (name == "long-demo") return random_preset(embedded_long_demo_model(), true);
  if (name == "smollm2-135m") return random_preset(embedded_smollm2_135m_model(), false);
  if (name == "qwen3-0.6b") return random_preset(embedded_qwen3_0_6b_model(), false);
  if (name != "gpt2-small") {  // the registry above is the one list of names
    std::string known;
    for (const PresetInfo& p : builtin_presets()) known += (known.empty() ? "" : ", ") + p.name;
    throw UsageError("unknown preset '" + name + "' (known: " + known + ")");
  }
  ModelConfig config = preset_config(name);
  LoadedModel loaded;
  loaded.name = name;
  loaded.tokenizer = std::make_shared<IdTokenizer>(config.vocab_size);
  loaded.model = std::make_shared<Model>(config, random_weights(config, kPresetSeed, random_dtype));
  return loaded;
}

}  // namespace kvscope
