#pragma once
// ModelConfig: the shape of a GPT-2-style model, its presets and validation.
#include <cstdint>
#include <string>
#include <vector>

namespace kvscope {

struct ModelConfig {
  int vocab_size = 0;
  int context_length = 0;  // n_positions: rows in the learned position table
  int d_model = 0;         // n_embd
  int n_head = 0;
  int n_layer = 0;
  bool qkv_bias = true;
  float layer_norm_eps = 1e-5f;

  int d_head() const { return d_model / n_head; }
  int d_ff() const { return 4 * d_model; }
  // Parameters with the output head tied to the token embedding.
  std::int64_t parameter_count() const;
  // Bytes of one position's K and V rows over all layers, float32.
  std::int64_t kv_bytes_per_position() const { return 2LL * n_layer * d_model * 4; }
};

// Throws UsageError naming the first field that is wrong.
void validate(const ModelConfig& config);

// "demo" (tiny, the default) or "gpt2-small" (124M shape). Throws UsageError for other names.
ModelConfig preset_config(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace kvscope
