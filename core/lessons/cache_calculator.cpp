#include "core/lessons/cache_calculator.h"

#include <algorithm>
#include <cassert>

#include "core/lessons/caption.h"
#include "core/engine/kernels/error.h"
#include "core/engine/model/weights.h"

namespace kvscope {

const std::vector<KvDtypeInfo>& kv_dtypes() {
  static const std::vector<KvDtypeInfo> dtypes = {
      {KvDtype::FP32, "fp32", 4}, {KvDtype::BF16, "bf16", 2}, {KvDtype::FP8, "fp8", 1}};
  return dtypes;
}

const KvDtypeInfo& kv_dtype_info(KvDtype dtype) {
  for (const KvDtypeInfo& d : kv_dtypes())
    if (d.id == dtype) return d;
  assert(false && "every KvDtype is listed in kv_dtypes()");
  return kv_dtypes()[0];
}

bool parse_kv_dtype(const std::string& text, KvDtype* out) {
  if (text == "fp32" || text == "f32" || text == "float32") *out = KvDtype::FP32;
  else if (text == "bf16" || text == "bfloat16") *out = KvDtype::BF16;
  else if (text == "fp8" || text == "f8") *out = KvDtype::FP8;
  else return false;
  return true;
}

std::int64_t kv_cache_bytes(int n_layer, int n_kv_head, int d_head, std::int64_t tokens, int bytes_per_value) {
  assert(n_layer > 0 && n_kv_head > 0 && d_head > 0 && tokens >= 0 && bytes_per_value > 0 && "shapes are positive");
  return 2LL * n_layer * n_kv_head * d_head * tokens * bytes_per_value;
}

std::int64_t kv_cache_bytes(const CacheShape& s, int n_kv_head, std::int64_t tokens, KvDtype dtype) {
  return std::int64_t(s.n_layer) * n_kv_head * s.values_per_kv_head() * tokens * kv_dtype_info(dtype).bytes;
}

std::string as_mha_label(const ModelConfig& config) { return config.n_local_layers() > 0 ? "MHA+SWA" : "MHA"; }

std::int64_t cache_bytes_as_mha(const ModelConfig& config, const StepTrace& step) {
  std::int64_t bytes = 0;
  const PolicyTrace& policy = step.cached.policy;
  for (int l = 0; l < int(step.cached.forward.layers.size()); ++l) {
    const LayerRecord& layer = step.cached.forward.layers[std::size_t(l)];
    if (layer.held_rows.empty()) continue;
    if (policy.active && policy.per_head) {  // each query head holding what its KV head kept
      for (int h = 0; h < config.n_head; ++h)
        if (const std::size_t kept = policy.kept_at(l, config.kv_head_of(h)).size(); kept > 0)
          bytes += kv_cache_bytes(1, 1, config.d_head(), std::int64_t(kept), kv_dtype_info(KvDtype::FP32).bytes);
      continue;
    }
    bytes += kv_cache_bytes(1, config.n_head, config.d_head(), std::int64_t(layer.held_rows.size()),
                            kv_dtype_info(KvDtype::FP32).bytes);
  }
  return bytes;
}

int CacheShape::n_local_layer() const {
  int n = 0;
  for (int w : layer_windows) n += w > 0;
  return n;
}

ModelConfig gemma3_config(const std::string& name) {
  struct Row {
    const char* name;
    int hidden, ff, layers, heads, kv_heads, vocab, context, window;
  };
  // google/gemma-3-270m, gemma-3-1b-pt and gemma-3-4b-pt (text_config): head_dim 256, every 6th layer
  // global (sliding_window_pattern 6).
  static const Row rows[] = {{"gemma-3-270m", 640, 2048, 18, 4, 1, 262144, 32768, 512},
                             {"gemma-3-1b", 1152, 6912, 26, 4, 1, 262144, 32768, 512},
                             {"gemma-3-4b", 2560, 10240, 34, 8, 4, 262208, 131072, 1024}};
  for (const Row& r : rows) {
    if (name != r.name) continue;
    ModelConfig c;
    c.family = ModelFamily::Gemma3;
    c.d_model = r.hidden;
    c.ff_dim = r.ff;
    c.n_layer = r.layers;
    c.n_head = r.heads;
    c.n_kv_head = r.kv_heads;
    c.head_dim = 256;
    c.vocab_size = r.vocab;
    c.context_length = r.context;
    c.qk_norm = true;
    c.qkv_bias = c.out_bias = c.mlp_bias = false;
    for (int l = 0; l < r.layers; ++l) c.layer_windows.push_back((l + 1) % 6 != 0 ? r.window : 0);
    return c;
  }
  throw UsageError("unknown Gemma 3 shape '" + name + "' (known: gemma-3-270m, gemma-3-1b, gemma-3-4b)");
}

namespace {
CacheShape shape_of(const ModelConfig& c, const std::string& name, const std::string& label) {
  CacheShape s;
  s.name = name;
  s.label = label;
  s.n_layer = c.n_layer;
  s.n_head = c.n_head;
  s.n_kv_head = c.kv_heads();
  s.d_head = c.d_head();
  s.context = c.context_length;
  s.parameters = parameter_count(c);
  if (c.n_local_layers() > 0) s.layer_windows = c.layer_windows;
  s.kv_lora_rank = c.kv_lora_rank;
  s.qk_rope_dim = c.qk_rope_dim;
  return s;
}

// DeepSeek-V2-Lite (deepseek-ai/DeepSeek-V2-Lite config.json): 27 layers, 16 heads, qk_nope_head_dim 128
// + qk_rope_head_dim 64 = K head 192, v_head_dim 128, kv_lora_rank 512, no q_lora_rank; its model card
// gives 32K context and 15.7B parameters in total (MoE, 2.4B active): rounded here.
CacheShape deepseek_v2_lite() {
  CacheShape s{"deepseek-v2-lite", "DeepSeek-V2-Lite (MLA: latent 512 + rotated key 64)", 27, 16, 16, 192, 32768,
               15700000000LL, {}};
  s.v_head_dim = 128;
  s.kv_lora_rank = 512;
  s.qk_rope_dim = 64;
  return s;
}
}  // namespace

const std::vector<CacheShape>& known_cache_shapes() {
  // Parameter counts: GPT-2 from the published checkpoints (tied head); Llama 3 8B from its model card.
  // The Llama-like context is Llama 3.1 8B's 128K (Llama 3 8B shipped with 8K; the shape is the same).
  static const std::vector<CacheShape> shapes = {
      {"gpt2-small", "GPT-2 small (124M)", 12, 12, 12, 64, 1024, 124439808, {}},
      {"gpt2-medium", "GPT-2 medium (355M)", 24, 16, 16, 64, 1024, 354823168, {}},
      {"gpt2-xl", "GPT-2 XL (1.5B)", 48, 25, 25, 64, 1024, 1557611200, {}},
      {"llama-3-8b", "Llama-3-8B-like (GQA)", 32, 32, 8, 128, 131072, 8030261248, {}},
      shape_of(gemma3_config("gemma-3-270m"), "gemma-3-270m", "Gemma 3 270M (MQA, 15 local : 3 global, window 512)"),
      shape_of(gemma3_config("gemma-3-1b"), "gemma-3-1b", "Gemma 3 1B (MQA, 22 local : 4 global, window 512)"),
      shape_of(gemma3_config("gemma-3-4b"), "gemma-3-4b", "Gemma 3 4B (GQA, 29 local : 5 global, window 1024)"),
      deepseek_v2_lite(),
  };
  return shapes;
}

CacheShape loaded_cache_shape(const ModelConfig& c, const std::string& model_name) {
  return shape_of(c, "loaded", "Loaded model (" + model_name + ")");
}

bool is_cache_shape_name(const std::string& name) {
  if (name == "loaded") return true;
  for (const CacheShape& s : known_cache_shapes())
    if (s.name == name) return true;
  return false;
}

CacheShape find_cache_shape(const std::string& name, const ModelConfig& loaded, const std::string& model_name) {
  if (name == "loaded") return loaded_cache_shape(loaded, model_name);
  std::string known = "loaded";
  for (const CacheShape& s : known_cache_shapes()) {
    if (s.name == name) return s;
    known += ", " + s.name;
  }
  throw UsageError("unknown model shape '" + name + "' (known: " + known + ")");
}

std::vector<AttentionVariant> attention_variants(const CacheShape& s) {
  std::vector<AttentionVariant> v;
  v.push_back({"MHA", s.n_head, s.n_kv_head != s.n_head});
  // GQA: the model's own K/V heads if it has groups, else the largest divisor <= heads/4 (then /2).
  int groups = s.n_kv_head < s.n_head && s.n_kv_head > 1 ? s.n_kv_head : 0;
  for (int d = s.n_head / 4; groups == 0 && d > 1; --d)
    if (s.n_head % d == 0) groups = d;
  for (int d = s.n_head / 2; groups == 0 && d > 1; --d)
    if (s.n_head % d == 0) groups = d;
  if (groups > 1) v.push_back({"GQA", groups, groups != s.n_kv_head});
  if (s.n_head > 1) v.push_back({"MQA", 1, s.n_kv_head != 1});
  if (s.kv_lora_rank > 0) {  // MLA: how the model runs; every per-head row is what it would need without
    for (AttentionVariant& a : v) a.hypothetical = true;
    v.push_back({"MLA", s.n_head, false, false, true});
    return v;
  }
  if (s.n_local_layer() == 0) return v;
  // The model's own kind with its local layers' windows: how it runs. Every all-global row is then
  // what the same shape would need without windows.
  std::string own = "GQA";
  for (AttentionVariant& a : v) {
    if (a.n_kv_head == s.n_kv_head) own = a.name;
    a.hypothetical = true;
  }
  v.push_back({own + "+SWA", s.n_kv_head, false, true});
  return v;
}

AttentionVariant own_attention_variant(const CacheShape& s) {
  for (const AttentionVariant& v : attention_variants(s))
    if (!v.hypothetical) return v;
  assert(false && "attention_variants marks the shape's own layout");
  return attention_variants(s).front();
}

std::int64_t layer_positions_held(const CacheShape& s, std::int64_t tokens, bool sliding) {
  std::int64_t held = 0;
  for (int l = 0; l < s.n_layer; ++l) {
    const int w = sliding && l < int(s.layer_windows.size()) ? s.layer_windows[std::size_t(l)] : 0;
    held += w > 0 ? std::min<std::int64_t>(tokens, w) : tokens;
  }
  return held;
}

std::int64_t kv_cache_bytes(const CacheShape& s, const AttentionVariant& v, std::int64_t tokens, KvDtype dtype) {
  const std::int64_t per_layer_token = v.latent ? s.latent_values() : std::int64_t(v.n_kv_head) * s.values_per_kv_head();
  return layer_positions_held(s, tokens, v.sliding) * per_layer_token * kv_dtype_info(dtype).bytes;
}

std::string cache_formula(const CacheShape& s, const AttentionVariant& v, std::int64_t tokens, KvDtype dtype,
                          FigureLog* figures, const nlohmann::json& context) {
  FigureLog scratch;
  FigureLog& f = figures ? *figures : scratch;
  const std::string result = f.note("cache_bytes", double(kv_cache_bytes(s, v, tokens, dtype)),
                                    format_decimal_bytes(double(kv_cache_bytes(s, v, tokens, dtype))), context);
  const KvDtypeInfo& d = kv_dtype_info(dtype);
  const std::string bytes = f.note("bytes_per_value", d.bytes, std::to_string(d.bytes) + " B");
  if (v.latent)
    return f.note("layers", s.n_layer, std::to_string(s.n_layer) + " layers", context) + " \xC3\x97 (" +
           f.note("latent_dim", s.kv_lora_rank, std::to_string(s.kv_lora_rank) + " latent") + " + " +
           f.note("rotated_key_dim", s.qk_rope_dim, std::to_string(s.qk_rope_dim) + " rotated key") + ") \xC3\x97 " +
           f.note("positions", double(tokens), format_count(tokens) + (tokens == 1 ? " token" : " tokens"), context) +
           " \xC3\x97 " + bytes + " (" + d.name + ") = " + result;
  if (!v.sliding || s.n_local_layer() == 0)
    return cache_product(s, v.n_kv_head, tokens, dtype, &f, context) + " = " + result;
  // Local layers may differ in window: one term per distinct window, global layers first.
  std::vector<std::pair<int, int>> terms;  // (window, layers); window 0 = global
  for (int l = 0; l < s.n_layer; ++l) {
    const int w = l < int(s.layer_windows.size()) ? s.layer_windows[std::size_t(l)] : 0;
    auto it = std::find_if(terms.begin(), terms.end(), [w](const std::pair<int, int>& t) { return t.first == w; });
    if (it == terms.end()) terms.push_back({w, 1});
    else ++it->second;
  }
  std::sort(terms.begin(), terms.end());
  std::string sum;
  for (const auto& [w, layers] : terms) {
    const std::int64_t held = w > 0 ? std::min<std::int64_t>(tokens, w) : tokens;
    sum += (sum.empty() ? "" : " + ") +
           f.note(w > 0 ? "local_layers" : "global_layers", layers, std::to_string(layers) + (w > 0 ? " local" : " global")) +
           (layers == 1 ? " layer" : " layers") + " \xC3\x97 " +
           f.note("rows_held", double(held), format_count(held) + (held == 1 ? " token" : " tokens"));
  }
  return f.note("k_and_v", 2, "2 \xC3\x97") + " (" + sum + ") \xC3\x97 " +
         f.note("kv_heads", v.n_kv_head, std::to_string(v.n_kv_head) + (v.n_kv_head == 1 ? " KV head" : " KV heads"), context) +
         " \xC3\x97 " + f.note("head_dim", s.d_head, std::to_string(s.d_head) + " head dim") + " \xC3\x97 " + bytes + " (" +
         d.name + ") = " + result;
}

std::string cache_formula_in_words(const AttentionVariant& v) {
  const char* x = " \xC3\x97 ";
  if (v.latent) return std::string("bytes = layers") + x + "(latent + rotated key)" + x + "tokens" + x + "bytes per value";
  if (v.sliding)
    return std::string("bytes = 2") + x + "(global layers" + x + "tokens + local layers" + x + "min(tokens, window))" + x +
           "KV heads" + x + "head dim" + x + "bytes per value";
  return std::string("bytes = 2") + x + "layers" + x + "KV heads" + x + "head dim" + x + "tokens" + x + "bytes per value";
}

std::string cache_product(const CacheShape& s, int n_kv_head, std::int64_t tokens, KvDtype dtype, FigureLog* figures,
                          const nlohmann::json& context) {
  FigureLog scratch;
  FigureLog& f = figures ? *figures : scratch;
  const KvDtypeInfo& d = kv_dtype_info(dtype);
  const bool split = s.v_head_dim > 0 && s.v_head_dim != s.d_head;  // K and V heads of different widths
  const std::string dims = split ? "(" + f.note("head_dim", s.d_head, std::to_string(s.d_head) + " K") + " + " +
                                       f.note("v_head_dim", s.v_head_dim, std::to_string(s.v_head_dim) + " V") + ") head dims"
                                 : f.note("head_dim", s.d_head, std::to_string(s.d_head) + " head dim");
  return (split ? "" : f.note("k_and_v", 2, "2 \xC3\x97") + " ") +
         f.note("layers", s.n_layer, std::to_string(s.n_layer) + " layers", context) + " \xC3\x97 " +
         f.note("kv_heads", n_kv_head, std::to_string(n_kv_head) + (n_kv_head == 1 ? " KV head" : " KV heads"), context) +
         " \xC3\x97 " + dims + " \xC3\x97 " +
         f.note("positions", double(tokens), format_count(tokens) + (tokens == 1 ? " token" : " tokens"), context) + " \xC3\x97 " +
         f.note("bytes_per_value", d.bytes, std::to_string(d.bytes) + " B") + " (" + d.name + ")";
}

std::string cache_formula(const CacheShape& s, int n_kv_head, std::int64_t tokens, KvDtype dtype, FigureLog* figures,
                          const nlohmann::json& context) {
  FigureLog scratch;
  FigureLog& f = figures ? *figures : scratch;
  return cache_product(s, n_kv_head, tokens, dtype, &f, context) + " = " +
         f.note("cache_bytes", double(kv_cache_bytes(s, n_kv_head, tokens, dtype)),
                format_decimal_bytes(double(kv_cache_bytes(s, n_kv_head, tokens, dtype))), context);
}

}  // namespace kvscope
