#pragma once
// ModelConfig: the shape of a model of one of the engine's families, its presets and validation.
//   gpt2   learned positions added to the input, LayerNorm, fused QKV, tanh-GELU MLP
//   llama  rotary positions on q and k, RMSNorm, grouped-query attention, SwiGLU MLP
//          (Llama 3, SmolLM2, Mistral, Qwen2 with q/k/v biases, Qwen3 with q/k norms)
//   gemma3 the Llama layout plus Gemma 3's: norms stored as w and applied as (1 + w), a norm after
//          attention and around the MLP, q/k norms, tanh-GELU gate, embeddings x sqrt(hidden),
//          scores scaled by query_pre_attn_scalar^-1/2, and local layers (a window of their own,
//          their own RoPE base) between global ones
// Any family may have local layers (layer_windows); the session's model-wide --window bounds every
// layer on top of that (a layer then sees min(its window, --window) keys).
// Multi-head latent attention (MLA, DeepSeek-V2) is an attention kind of the Llama layout
// (kv_lora_rank > 0): per layer and position the cache holds one latent row c = n W_dkv^T [r] and one
// shared rotated key k_rope = rope(n W_kr^T) [qk_rope_dim] (DeepSeek's decoupled rotary key: RoPE
// does not commute with the up-projection, so the rotated part cannot live in the latent). K and V
// are rebuilt from the cached rows each step: K_h = [c W_uk_h^T | k_rope], V_h = c W_uv_h^T; every
// query head has its own rebuilt K/V head of width head_dim, the last qk_rope_dim of which are rotary.
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/model/family.h"

namespace kvscope {

// Llama 3's rope_scaling (rope_type "llama3"): long wavelengths slowed by factor, short ones kept,
// a smooth blend between. factor 0 = no scaling.
struct RopeScaling {
  float factor = 0.0f;
  bool linear = false;  // rope_type "linear" (Gemma 3 4B's global layers): every frequency / factor
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
  RopeScaling rope_scaling;  // global layers only (Gemma 3's local layers use none)
  // Per layer: 0 = global (every earlier position), W > 0 = local (the newest W positions, itself
  // included: Hugging Face's sliding_window). Empty: every layer global.
  std::vector<int> layer_windows;
  float rope_local_theta = 10000.0f;  // RoPE base of local layers (Gemma 3's rope_local_base_freq)
  float query_scale = 0.0f;    // scores = q.k x query_scale; 0: 1/sqrt(d_head) (Gemma: query_pre_attn_scalar^-1/2)
  float embed_scale = 0.0f;    // token embeddings x embed_scale; 0: none (Gemma: sqrt(hidden) in the weights' dtype)
  float attn_softcap = 0.0f;   // scores -> cap tanh(scores / cap); 0: none
  float final_softcap = 0.0f;  // logits -> cap tanh(logits / cap); 0: none
  int kv_lora_rank = 0;  // MLA: width r of the cached latent row (0: ordinary K/V rows)
  int qk_rope_dim = 0;   // MLA: rotary dims of each q/k head, = width of the shared rotated key cached beside the latent

  const FamilyTraits& traits() const { return family_traits(family); }
  bool rotary() const { return traits().positions == PositionKind::Rotary; }
  // RoPE base of layer `layer`: local layers turn at their own (Gemma 3's rope_local_base_freq).
  float layer_rope_theta(int layer) const { return layer_local(layer) ? rope_local_theta : rope_theta; }
  int layer_window(int layer) const { return layer_windows.empty() ? 0 : layer_windows[std::size_t(layer)]; }
  bool layer_local(int layer) const { return layer_window(layer) > 0; }
  int n_local_layers() const;
  // The window layer `layer` attends with when the session adds a model-wide window (0 = none):
  // the smaller of the two that are set, 0 when neither is.
  int effective_window(int layer, int model_window) const;
  // "local" or "global".
  const char* layer_attention_name(int layer) const { return layer_local(layer) ? "local" : "global"; }
  float score_scale() const;
  int d_head() const { return head_dim > 0 ? head_dim : d_model / n_head; }
  int kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
  int q_dim() const { return n_head * d_head(); }
  int kv_dim() const { return kv_heads() * d_head(); }
  int d_ff() const { return ff_dim > 0 ? ff_dim : 4 * d_model; }
  // The K/V head query head h reads: groups of n_head / n_kv_head consecutive query heads share one.
  int kv_head_of(int query_head) const { return query_head / (n_head / kv_heads()); }
  bool mla() const { return kv_lora_rank > 0; }
  int qk_nope_dim() const { return d_head() - qk_rope_dim; }
  int rotary_dims() const { return mla() ? qk_rope_dim : d_head(); }  // rotated dims of each q/k head  // MLA: dims of a K head rebuilt from the latent
  // Floats one position adds to one layer's cache: K and V rows (2 kv_dim), or MLA's latent and rotated key.
  int cache_key_dim() const { return mla() ? kv_lora_rank + qk_rope_dim : kv_dim(); }
  int cache_value_dim() const { return mla() ? 0 : kv_dim(); }
  int cache_row_floats() const { return cache_key_dim() + cache_value_dim(); }
  // "mha" (a K/V head per query head), "mqa" (one for all), "gqa" (groups) or "mla" (a latent row).
  const char* attention_kind() const {
    return mla() ? "mla" : kv_heads() == n_head ? "mha" : kv_heads() == 1 ? "mqa" : "gqa";
  }
  const char* family_name() const { return traits().name; }
  // Bytes of one position's cached rows over all layers, float32: 2 x layers x KV heads x d_head x 4,
  // MLA: layers x (kv_lora_rank + qk_rope_dim) x 4 (what the cache grows by per token while no layer's
  // window is full).
  std::int64_t kv_bytes_per_position() const { return std::int64_t(n_layer) * cache_row_floats() * 4; }
  // K/V rows (one per layer and position) the cache holds after `positions` positions: the sum over
  // layers of min(positions, window) for a windowed layer, positions for the others.
  std::int64_t kv_rows_held(std::int64_t positions, int model_window = 0) const;
  // Those rows in float32 bytes: kv_rows_held x cache_row_floats x 4.
  std::int64_t kv_bytes_held(std::int64_t positions, int model_window = 0) const {
    return kv_rows_held(positions, model_window) * cache_row_floats() * 4;
  }
};

// Throws UsageError naming the first field that is wrong.
void validate(const ModelConfig& config);

// Shapes of the GPT-2 presets: "demo" (tiny, the default) or "gpt2-small" (124M shape). Throws
// UsageError for other names (demo-llama's and demo-mla's shapes are their config.json: core/formats/model_source.h).
ModelConfig preset_config(const std::string& name);

}  // namespace kvscope
