#pragma once
// Where a model comes from: a built-in preset or a model folder on disk (core/model_folder.h).
#include <cstdint>
#include <memory>
#include <string>

#include "core/engine/forward/model.h"
#include "core/engine/session/tokenizer.h"

namespace kvscope {

struct LoadedModel {
  std::string name;  // what the window and the CLI call it
  std::shared_ptr<const Model> model;
  std::shared_ptr<const Tokenizer> tokenizer;
};

// "demo": the trained classroom model compiled into the binary (examples/models/demo), GPT-2 style
// with its word vocabulary. "demo-llama": the same corpus on a Llama-style model (RoPE, 4 query heads
// sharing 2 KV heads, RMSNorm, SwiGLU) with a byte-level BPE, so any text encodes
// (examples/models/demo-llama). "demo-mla": the same corpus and tokenizer on a Llama-style model whose
// attention is multi-head latent attention (a latent row and a shared rotated key cached per layer and
// position, K and V rebuilt from them each step: examples/models/demo-mla). "gemma3-layout": Gemma 3's
// layout at toy size (local and global layers) with seeded random weights and demo-llama's tokenizer.
// "gpt2-small": GPT-2 124M's shape with seeded random weights and no vocabulary. "smollm2-135m" and
// "qwen3-0.6b": those models' config.json (examples/models/) with seeded random weights and no
// vocabulary, for long contexts at real sizes. The random presets' matrices are made in `random_dtype`
// (the trained built-in models keep their stored F32).
// Throws UsageError for an unknown name.
LoadedModel load_preset(const std::string& name, WeightDtype random_dtype = WeightDtype::F32);

// Every preset load_preset knows, in the order front ends list them, with a few words each: what
// `--help` prints (kvscope and kvscope-cli), so no front end keeps a list of its own.
struct PresetInfo {
  std::string name;
  std::string summary;  // "GPT-2 style, the default", "random weights"...
  std::string description;  // one line for the window's Models menu: what it is and what it shows
  // A real model's whole shape (smollm2-135m, qwen3-0.6b): seconds to make its weights, hundreds of MB
  // to GBs, for long contexts. The window's Models menu leaves these out (they open with --preset).
  bool large = false;
};
const std::vector<PresetInfo>& builtin_presets();
// "demo (GPT-2 style, the default), demo-llama (...), ...".
std::string presets_help();

constexpr std::uint64_t kPresetSeed = 1234;

}  // namespace kvscope
