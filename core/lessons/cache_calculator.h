#pragma once
// How big the KV cache gets: bytes = 2 (K and V) x layers x KV heads x head dim x tokens x bytes per
// value, for the loaded model and for well-known shapes, in fp32 / bf16 / fp8, with multi-head (MHA),
// grouped-query (GQA) and multi-query (MQA) attention, and with sliding-window layers (Gemma 3: a local
// layer holds at most its window of positions, a global one every position), and with multi-head latent
// attention (MLA: layers x (latent + rotated key) x tokens x bytes per value, no per-head K/V rows).
// Pure arithmetic on shapes: no model runs here.
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/session/trace.h"
#include "core/lessons/figure.h"

namespace kvscope {

enum class KvDtype { FP32, BF16, FP8 };

struct KvDtypeInfo {
  KvDtype id;
  const char* name;  // "fp32", "bf16", "fp8"
  int bytes;         // per value
};

const std::vector<KvDtypeInfo>& kv_dtypes();  // fp32, bf16, fp8
const KvDtypeInfo& kv_dtype_info(KvDtype dtype);
// "fp32"/"f32"/"float32", "bf16"/"bfloat16", "fp8"; false for anything else.
bool parse_kv_dtype(const std::string& text, KvDtype* out);

struct CacheShape {
  std::string name;   // "loaded", "gpt2-small", "gpt2-medium", "gpt2-xl", "llama-3-8b"
  std::string label;  // "GPT-2 small (124M)"
  int n_layer = 0;
  int n_head = 0;     // query heads
  int n_kv_head = 0;  // K/V heads the model has (= n_head for MHA models)
  int d_head = 0;
  int context = 0;    // the model's context length in tokens
  std::int64_t parameters = 0;  // weights, for "cache versus weights" comparisons
  std::vector<int> layer_windows;  // per layer: 0 global, W local (holds at most W positions); empty: all global
  int v_head_dim = 0;    // V's head dim when it differs from K's (DeepSeek: K 192, V 128); 0: = d_head
  int kv_lora_rank = 0;  // MLA: the latent row's width (0: no MLA row)
  int qk_rope_dim = 0;   // MLA: the rotated key cached beside it

  int n_local_layer() const;
  int values_per_kv_head() const { return d_head + (v_head_dim > 0 ? v_head_dim : d_head); }  // K + V
  int latent_values() const { return kv_lora_rank + qk_rope_dim; }  // MLA: per layer and token
};

// The closed form. Every argument must be positive (asserted).
std::int64_t kv_cache_bytes(int n_layer, int n_kv_head, int d_head, std::int64_t tokens, int bytes_per_value);
std::int64_t kv_cache_bytes(const CacheShape& shape, int n_kv_head, std::int64_t tokens, KvDtype dtype);

// The fp32 bytes the step's cache would hold (its held rows, layer by layer) if every query head had
// its own K/V head (MHA): what the window shows beside a GQA / MQA model's own cache bytes. Under a
// policy that keeps different rows per KV head, each query head holds what its KV head kept.
std::int64_t cache_bytes_as_mha(const ModelConfig& config, const StepTrace& step);
// Its name beside those bytes, as the calculator names the variants: "MHA", or "MHA+SWA" when the
// model's local layers keep their windows (the calculator's plain "MHA" row makes every layer global).
std::string as_mha_label(const ModelConfig& config);

// GPT-2 small / medium / XL, a Llama-3-8B-like GQA shape (32 layers, 32 heads, 8 KV heads, head dim
// 128), Gemma 3 270M / 1B / 4B (5 local layers per global one; see gemma3_config) and DeepSeek-V2-Lite
// (MLA: 27 layers, kv_lora_rank 512, qk_rope_head_dim 64; as MHA 16 heads of K 192 and V 128).
const std::vector<CacheShape>& known_cache_shapes();
// The loaded model (its K/V heads, windows and MLA widths, as the engine caches them).
CacheShape loaded_cache_shape(const ModelConfig& config, const std::string& model_name);
bool is_cache_shape_name(const std::string& name);  // "loaded" or a known shape
// Throws UsageError naming the unknown shape and the known ones.
CacheShape find_cache_shape(const std::string& name, const ModelConfig& loaded, const std::string& model_name);

// Gemma 3's text models by name ("gemma-3-270m", "gemma-3-1b", "gemma-3-4b"), from their published
// config.json files: their shapes, layer kinds and windows (vocabulary and widths too, for the
// parameter count). Throws UsageError for another name.
ModelConfig gemma3_config(const std::string& name);

// MHA (every head keeps K/V), GQA (groups of query heads share one K/V head), MQA (one K/V head), and
// for a shape with local layers the same with those layers' windows ("GQA+SWA": sliding-window
// attention), which is how that model runs; the all-global rows are then what it would need without.
struct AttentionVariant {
  std::string name;        // "MHA", "GQA", "MQA", "MQA+SWA"...
  int n_kv_head = 0;
  bool hypothetical = false;  // not how this model was trained: what the same shape would need
  bool sliding = false;       // local layers hold at most their window (the shape's layer_windows)
  bool latent = false;        // MLA: a latent row and rotated key per layer and token (n_kv_head: heads rebuilt)
};
std::vector<AttentionVariant> attention_variants(const CacheShape& shape);
// The row that is how the shape runs (the one not hypothetical).
AttentionVariant own_attention_variant(const CacheShape& shape);

// Positions held summed over layers: min(tokens, window) for a local layer when sliding, else tokens.
std::int64_t layer_positions_held(const CacheShape& shape, std::int64_t tokens, bool sliding);
// 2 x layer_positions_held x KV heads x head dim x bytes per value (K and V head dims summed when they
// differ); MLA: layer_positions_held x (latent + rotated key) x bytes per value.
std::int64_t kv_cache_bytes(const CacheShape& shape, const AttentionVariant& variant, std::int64_t tokens, KvDtype dtype);
// With the windows: "2 × (3 global layers × 1,000 tokens + 15 local layers × 512 tokens) × 1 KV head
// × 256 head dim × 2 B (bf16) = ..."; without, cache_formula's. With `figures`, every number written is
// declared there; `context` goes with the ones that depend on the model row ({"model": "loaded"}).
std::string cache_formula(const CacheShape& shape, const AttentionVariant& variant, std::int64_t tokens, KvDtype dtype,
                          FigureLog* figures = nullptr, const nlohmann::json& context = nlohmann::json::object());

// The variant's formula in words, for a title: "bytes = 2 × layers × KV heads × head dim × tokens ×
// bytes per value" (MHA/GQA/MQA), with local layers' windows, or MLA's latent row.
std::string cache_formula_in_words(const AttentionVariant& variant);

// "2 × 32 layers × 8 KV heads × 128 head dim × 32,768 tokens × 2 B (bf16)"
std::string cache_product(const CacheShape& shape, int n_kv_head, std::int64_t tokens, KvDtype dtype,
                          FigureLog* figures = nullptr, const nlohmann::json& context = nlohmann::json::object());
// The product, then " = 4.29 GB".
std::string cache_formula(const CacheShape& shape, int n_kv_head, std::int64_t tokens, KvDtype dtype,
                          FigureLog* figures = nullptr, const nlohmann::json& context = nlohmann::json::object());

}  // namespace kvscope
