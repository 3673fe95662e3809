#include "core/engine/model/config.h"

#include <algorithm>
#include <cmath>

#include "core/engine/kernels/error.h"

namespace kvscope {

int ModelConfig::n_local_layers() const {
  return int(std::count_if(layer_windows.begin(), layer_windows.end(), [](int w) { return w > 0; }));
}

int ModelConfig::effective_window(int layer, int model_window) const {
  const int own = layer_window(layer);
  if (own > 0 && model_window > 0) return std::min(own, model_window);
  return own > 0 ? own : model_window;
}

float ModelConfig::score_scale() const { return query_scale > 0.0f ? query_scale : 1.0f / std::sqrt(float(d_head())); }

std::int64_t ModelConfig::kv_rows_held(std::int64_t positions, int model_window) const {
  std::int64_t rows = 0;
  for (int l = 0; l < n_layer; ++l) {
    const int w = effective_window(l, model_window);
    rows += w > 0 ? std::min<std::int64_t>(positions, w) : positions;
  }
  return rows;
}

void validate(const ModelConfig& c) {
  auto fail = [](const std::string& what) { throw UsageError("invalid model config: " + what); };
  if (c.vocab_size < 1) fail("vocab_size must be at least 1, got " + std::to_string(c.vocab_size));
  if (c.context_length < 1)
    fail("context_length must be at least 1, got " + std::to_string(c.context_length));
  if (c.d_model < 1) fail("d_model must be at least 1, got " + std::to_string(c.d_model));
  if (c.n_head < 1) fail("n_head must be at least 1, got " + std::to_string(c.n_head));
  if (c.n_layer < 1) fail("n_layer must be at least 1, got " + std::to_string(c.n_layer));
  if (c.head_dim == 0 && c.d_model % c.n_head != 0)
    fail("n_head (" + std::to_string(c.n_head) + ") must divide d_model (" + std::to_string(c.d_model) + ")");
  if (c.head_dim < 0) fail("head_dim must be positive, got " + std::to_string(c.head_dim));
  if (c.n_kv_head < 0 || c.kv_heads() > c.n_head || c.n_head % c.kv_heads() != 0)
    fail("the KV heads (" + std::to_string(c.n_kv_head) + ") must divide the query heads (" + std::to_string(c.n_head) + ")");
  if (c.ff_dim < 0) fail("ff_dim must be positive, got " + std::to_string(c.ff_dim));
  if (c.traits().qkv == QkvLayout::Fused && (c.kv_heads() != c.n_head || c.d_head() * c.n_head != c.d_model))
    fail(std::string("a fused QKV projection (") + c.family_name() +
         ") has one K/V head per query head and d_head = d_model / n_head");
  if (c.rotary() && c.traits().qkv == QkvLayout::Fused)
    fail(std::string("rotary positions are applied to separate Q/K/V projections, not ") + c.family_name() + "'s fused one");
  if (c.rotary() && (c.d_head() % 2 != 0)) fail("rotary positions need an even head_dim, got " + std::to_string(c.d_head()));
  if (c.rotary() && !(c.rope_theta > 0.0f && c.rope_theta < 1e30f)) fail("rope_theta must be a positive number");
  if (!c.layer_windows.empty() && int(c.layer_windows.size()) != c.n_layer)
    fail("layer_windows has " + std::to_string(c.layer_windows.size()) + " entries for " + std::to_string(c.n_layer) + " layers");
  for (int w : c.layer_windows)
    if (w < 0) fail("a layer's window must be positive (or 0 for a global layer), got " + std::to_string(w));
  if (c.n_local_layers() > 0 && !(c.rope_local_theta > 0.0f && c.rope_local_theta < 1e30f))
    fail("the local layers' rope base must be a positive number");
  for (float v : {c.query_scale, c.embed_scale, c.attn_softcap, c.final_softcap})
    if (!(v >= 0.0f && v < 1e30f)) fail("query_scale, embed_scale and the softcaps must be 0 (none) or positive");
  if (c.rope_scaling.factor < 0.0f || (c.rope_scaling.factor > 0.0f && !c.rope_scaling.linear &&
      !(c.rope_scaling.high_freq_factor > c.rope_scaling.low_freq_factor && c.rope_scaling.original_context > 0)))
    fail("rope_scaling needs factor > 0, high_freq_factor > low_freq_factor and original_max_position_embeddings > 0");
  if (c.kv_lora_rank < 0) fail("kv_lora_rank must be positive (or 0 without MLA), got " + std::to_string(c.kv_lora_rank));
  if (c.mla() && !c.traits().latent_attention)
    fail(std::string("multi-head latent attention (kv_lora_rank) is not defined for ") + c.family_name());
  if (c.mla() && c.n_kv_head != 0 && c.n_kv_head != c.n_head)
    fail("MLA rebuilds a K/V head per query head: num_key_value_heads must equal the query heads");
  if (c.mla() && (c.qk_rope_dim < 2 || c.qk_rope_dim % 2 != 0 || c.qk_rope_dim >= c.d_head()))
    fail("qk_rope_head_dim must be even, at least 2 and below head_dim (" + std::to_string(c.d_head()) + "), got " +
         std::to_string(c.qk_rope_dim));
  if (!c.mla() && c.qk_rope_dim != 0) fail("qk_rope_head_dim is set without kv_lora_rank (MLA)");
  if (c.mla() && (c.qkv_bias || c.out_bias || c.qk_norm || c.n_local_layers() > 0 || c.rope_scaling.factor > 0.0f))
    fail("kvscope's MLA has no attention biases, q/k norms, local layers or rope scaling");
  if (!(c.layer_norm_eps > 0.0f) || c.layer_norm_eps > 1.0f) fail("layer_norm_eps must be in (0, 1]");
  // Keeps every weight matrix index inside 32-bit Eigen sizes.
  if (std::int64_t(c.d_model) * c.d_ff() > (1LL << 31) || std::int64_t(c.d_model) * c.q_dim() > (1LL << 31) || std::int64_t(c.vocab_size) * c.d_model > (1LL << 31) ||
      std::int64_t(c.context_length) * c.d_model > (1LL << 31) || std::int64_t(c.kv_lora_rank) * c.q_dim() > (1LL << 31) ||
      std::int64_t(c.kv_lora_rank) * c.d_model > (1LL << 31))
    fail("dimensions too large (a weight matrix would exceed 2^31 values)");
}

ModelConfig preset_config(const std::string& name) {
  ModelConfig c;
  if (name == "demo") {
    c.vocab_size = 0;  // filled from the demo vocabulary by the caller
    c.context_length = 32;
    c.d_model = 64;
    c.n_head = 4;
    c.n_layer = 2;
    return c;
  }
  if (name == "gpt2-small") {
    c.vocab_size = 50257;
    c.context_length = 1024;
    c.d_model = 768;
    c.n_head = 12;
    c.n_layer = 12;
    return c;
  }
  throw UsageError("no built-in shape '" + name + "' (demo, gpt2-small)");
}

}  // namespace kvscope
