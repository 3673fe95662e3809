#pragma once
// ModelConfig: the shape of a model of one of the engine's families, its presets and validation.
//   gpt2   learned positions added to the input, LayerNorm, fused QKV, tanh-GELU MLP
//   llama  rotary positions on q and k, RMSNorm, grouped-query attention, SwiGLU MLP
//          (Llama 3, SmolLM2, Mistral, Qwen2 with q/k/v biases, Qwen3 with q/k norms)
#include <cstdint>
#include <string>
#include <vector>

namespace kvscope {

enum class ModelFamily { Gpt2, Llama };

// Llama 3's rope_scaling (rope_type "llama3"): long wavelengths slowed by factor, short ones kept,
// a smooth blend between. factor 0 = no scaling.
struct RopeScaling {
  float factor = 0.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  int original_context = 8192;  // original_max_position_embeddings
};

struct ModelConfig {
  ModelFamily family = ModelFamily::Gpt2;
  int vocab_size = 0;
  int context_length = 0;  // learned positions: rows of the table; rotary: max_position_embeddings
  int d_model = 0;         // n_embd / hidden_size
  int n_head = 0;          // query heads
  int n_kv_head = 0;       // K/V heads, each read by n_head / n_kv_head query heads (0: = n_head)
  int head_dim = 0;        // 0: d_model / n_head
  int n_layer = 0;
  int ff_dim = 0;          // MLP hidden width (0: 4 d_model)
  bool qkv_bias = true;    // biases on the Q, K, V projections (GPT-2, Qwen2)
  bool out_bias = true;    // bias on the output projection (GPT-2; Llama's attention_bias)
  bool mlp_bias = true;    // biases in the MLP (GPT-2)
  bool qk_norm = false;    // RMSNorm per head on q and k before rotation (Qwen3)
  bool tied_head = true;   // output head = token embedding
  float layer_norm_eps = 1e-5f;  // LayerNorm or RMSNorm epsilon
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;

  bool rotary() const { return family == ModelFamily::Llama; }
  int d_head() const { return head_dim > 0 ? head_dim : d_model / n_head; }
  int kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
  int q_dim() const { return n_head * d_head(); }
  int kv_dim() const { return kv_heads() * d_head(); }
  int d_ff() const { return ff_dim > 0 ? ff_dim : 4 * d_model; }
  // The K/V head query head h reads: groups of n_head / n_kv_head consecutive query heads share one.
  int kv_head_of(int query_head) const { return query_head / (n_head / kv_heads()); }
  // "mha" (a K/V head per query head), "mqa" (one for all) or "gqa" (groups).
  const char* attention_kind() const {
    return kv_heads() == n_head ? "mha" : kv_heads() == 1 ? "mqa" : "gqa";
  }
  const char* family_name() const { return family == ModelFamily::Llama ? "llama" : "gpt2"; }
  // Bytes of one position's K and V rows over all layers, float32: 2 x layers x KV heads x d_head x 4.
  std::int64_t kv_bytes_per_position() const { return 2LL * n_layer * kv_dim() * 4; }
};

// Throws UsageError naming the first field that is wrong.
void validate(const ModelConfig& config);

// Shapes of the GPT-2 presets: "demo" (tiny, the default) or "gpt2-small" (124M shape). Throws
// UsageError for other names (demo-llama's shape is its config.json: core/formats/model_source.h).
ModelConfig preset_config(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace kvscope
