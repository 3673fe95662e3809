#pragma once
// Writes a hf::Gpt2 as a Hugging Face model folder (config.json + model.safetensors) for tests,
// and a temporary directory that removes itself.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/formats/safetensors_writer.h"
#include "hf_gpt2_reference.h"

namespace test {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag) {
    std::string pattern = "/tmp/kvscope_" + tag + "_XXXXXX";
    path = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline nlohmann::json gpt2_config_json(const hf::Gpt2& m) {
  return {{"architectures", {"GPT2LMHeadModel"}}, {"activation_function", "gelu_new"}, {"model_type", "gpt2"},
          {"n_embd", m.d}, {"n_head", m.n_head}, {"n_layer", m.n_layer}, {"n_positions", m.context},
          {"n_ctx", m.context}, {"vocab_size", m.vocab}, {"layer_norm_epsilon", m.eps}};
}

struct FolderOptions {
  std::string dtype = "F32";         // storage of every weight
  bool transformer_prefix = false;   // "transformer.wte.weight" as save_pretrained writes it
  bool buffers = true;               // h.N.attn.bias / masked_bias, which a loader must skip
};

inline void write_gpt2_folder(const std::string& dir, const hf::Gpt2& m, const FolderOptions& o = {}) {
  std::filesystem::create_directories(dir);
  write_text(dir + "/config.json", gpt2_config_json(m).dump(2));
  std::vector<kvscope::NamedTensor> tensors;
  for (const auto& [name, t] : m.tensors) {
    const std::string stored = (o.transformer_prefix && name != "lm_head.weight" ? "transformer." : "") + name;
    tensors.push_back({stored, t.shape, o.dtype, t.values.data()});
  }
  std::vector<float> mask(std::size_t(m.context) * m.context, 0.0f), masked_bias = {-1e4f};
  for (int r = 0; r < m.context; ++r)
    for (int c = 0; c <= r; ++c) mask[std::size_t(r) * m.context + c] = 1.0f;
  if (o.buffers) {
    const std::string prefix = o.transformer_prefix ? "transformer." : "";
    for (int l = 0; l < m.n_layer; ++l) {
      const std::string h = prefix + "h." + std::to_string(l) + ".attn.";
      tensors.push_back({h + "bias", {1, 1, m.context, m.context}, "F32", mask.data()});
      tensors.push_back({h + "masked_bias", {}, "F32", masked_bias.data()});
    }
  }
  kvscope::write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

}  // namespace test
