#include "core/lessons/cache_calculator.h"

#include <cassert>

#include "core/lessons/caption.h"
#include "core/engine/error.h"
#include "core/engine/weights.h"

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
  return kv_cache_bytes(s.n_layer, n_kv_head, s.d_head, tokens, kv_dtype_info(dtype).bytes);
}

std::int64_t cache_bytes_as_mha(const ModelConfig& config, const StepTrace& step) {
  std::int64_t bytes = 0;
  for (const LayerRecord& layer : step.cached.forward.layers)
    if (!layer.held_rows.empty())
      bytes += kv_cache_bytes(1, config.n_head, config.d_head(), std::int64_t(layer.held_rows.size()),
                              kv_dtype_info(KvDtype::FP32).bytes);
  return bytes;
}

const std::vector<CacheShape>& known_cache_shapes() {
  // Parameter counts: GPT-2 from the published checkpoints (tied head); Llama 3 8B from its model card.
  // The Llama-like context is Llama 3.1 8B's 128K (Llama 3 8B shipped with 8K; the shape is the same).
  static const std::vector<CacheShape> shapes = {
      {"gpt2-small", "GPT-2 small (124M)", 12, 12, 12, 64, 1024, 124439808},
      {"gpt2-medium", "GPT-2 medium (355M)", 24, 16, 16, 64, 1024, 354823168},
      {"gpt2-xl", "GPT-2 XL (1.5B)", 48, 25, 25, 64, 1024, 1557611200},
      {"llama-3-8b", "Llama-3-8B-like (GQA)", 32, 32, 8, 128, 131072, 8030261248},
  };
  return shapes;
}

CacheShape loaded_cache_shape(const ModelConfig& c, const std::string& model_name) {
  CacheShape s;
  s.name = "loaded";
  s.label = "Loaded model (" + model_name + ")";
  s.n_layer = c.n_layer;
  s.n_head = c.n_head;
  s.n_kv_head = c.kv_heads();
  s.d_head = c.d_head();
  s.context = c.context_length;
  s.parameters = parameter_count(c);
  return s;
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
  return v;
}

std::string cache_product(const CacheShape& s, int n_kv_head, std::int64_t tokens, KvDtype dtype) {
  const KvDtypeInfo& d = kv_dtype_info(dtype);
  return "2 \xC3\x97 " + std::to_string(s.n_layer) + " layers \xC3\x97 " + std::to_string(n_kv_head) +
         (n_kv_head == 1 ? " KV head" : " KV heads") + " \xC3\x97 " + std::to_string(s.d_head) + " head dim \xC3\x97 " +
         format_count(tokens) + (tokens == 1 ? " token" : " tokens") + " \xC3\x97 " + std::to_string(d.bytes) + " B (" +
         d.name + ")";
}

std::string cache_formula(const CacheShape& s, int n_kv_head, std::int64_t tokens, KvDtype dtype) {
  return cache_product(s, n_kv_head, tokens, dtype) + " = " +
         format_decimal_bytes(double(kv_cache_bytes(s, n_kv_head, tokens, dtype)));
}

}  // namespace kvscope
