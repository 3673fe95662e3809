#include "core/formats/hf_config.h"

#include <climits>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"

namespace kvscope {

namespace {
nlohmann::json parse_json_object(const std::string& text, const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw DataError(path + ": not valid JSON");
  if (!j.is_object()) throw DataError(path + ": not a JSON object");
  return j;
}

// The integer field `name`, or -1 when absent and optional.
int int_field(const nlohmann::json& j, const std::string& path, const char* name, bool required = true) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) throw DataError(path + ": missing field \"" + name + "\"");
    return -1;
  }
  if (!it->is_number_integer())
    throw DataError(path + ": field \"" + name + "\" must be an integer, got " + it->dump());
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() > std::uint64_t(INT_MAX))
    throw DataError(path + ": field \"" + name + "\" is out of range: " + it->dump());
  return it->get<int>();
}
}  // namespace

ModelConfig read_hf_config(const std::string& path) { return parse_hf_config(read_text_file(path, "config.json (a model folder needs one)"), path); }

namespace {

// A positive number field (integer or float), or `fallback` when absent.
float number_field(const nlohmann::json& j, const std::string& path, const char* name, float fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number() || !(it->get<double>() > 0.0) || !std::isfinite(it->get<double>()))
    throw DataError(path + ": field \"" + name + "\" must be a positive number, got " + it->dump());
  return it->get<float>();
}

bool bool_field(const nlohmann::json& j, const std::string& path, const char* name, bool fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw DataError(path + ": field \"" + name + "\" must be true or false, got " + it->dump());
  return it->get<bool>();
}

void read_gpt2(const nlohmann::json& j, const std::string& path, ModelConfig& c) {
  c.family = ModelFamily::Gpt2;
  c.d_model = int_field(j, path, "n_embd");
  c.n_head = int_field(j, path, "n_head");
  c.n_layer = int_field(j, path, "n_layer");
  c.vocab_size = int_field(j, path, "vocab_size");
  // GPT-2's configs carry both; n_positions sizes the position table.
  c.context_length = int_field(j, path, "n_positions", false);
  if (c.context_length < 0) c.context_length = int_field(j, path, "n_ctx", false);
  if (c.context_length < 0) throw DataError(path + ": missing field \"n_positions\" (or \"n_ctx\")");
  c.qkv_bias = true;
  c.layer_norm_eps = number_field(j, path, "layer_norm_epsilon", 1e-5f);
  c.tied_head = bool_field(j, path, "tie_word_embeddings", true);
}

// rope_scaling: null, or {"rope_type" (or "type"): "llama3", factor, low_freq_factor, high_freq_factor,
// original_max_position_embeddings}. Any other type is refused by name.
void read_rope_scaling(const nlohmann::json& j, const std::string& path, ModelConfig& c) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return;
  if (!it->is_object()) throw DataError(path + ": field \"rope_scaling\" must be null or an object, got " + it->dump());
  const nlohmann::json& r = *it;
  std::string type = r.value("rope_type", r.value("type", std::string()));
  if (type == "linear") {  // Gemma 3 4B's global layers
    c.rope_scaling.linear = true;
    c.rope_scaling.factor = number_field(r, path, "factor", 0.0f);
    if (!(c.rope_scaling.factor > 0.0f)) throw DataError(path + ": rope_scaling \"linear\" needs a positive factor");
    return;
  }
  if (type != "llama3")
    throw DataError(path + ": rope_scaling type \"" + type + "\" is not supported (only \"llama3\", \"linear\" or none)");
  c.rope_scaling.factor = number_field(r, path, "factor", 0.0f);
  c.rope_scaling.low_freq_factor = number_field(r, path, "low_freq_factor", 1.0f);
  c.rope_scaling.high_freq_factor = number_field(r, path, "high_freq_factor", 4.0f);
  c.rope_scaling.original_context = int_field(r, path, "original_max_position_embeddings");
}

// The shape fields the Hugging Face families after GPT-2 share (hidden_size, heads, KV heads, head_dim,
// layers, vocabulary, context, RMSNorm epsilon). head_dim absent: default_head_dim (0: hidden / heads).
void read_transformer_shape(const nlohmann::json& j, const std::string& path, int default_head_dim, ModelConfig& c) {
  c.d_model = int_field(j, path, "hidden_size");
  c.ff_dim = int_field(j, path, "intermediate_size");
  c.n_head = int_field(j, path, "num_attention_heads");
  c.n_kv_head = int_field(j, path, "num_key_value_heads", false);
  if (c.n_kv_head < 0) c.n_kv_head = c.n_head;
  if (c.n_kv_head == 0) throw DataError(path + ": field \"num_key_value_heads\" must be at least 1, got 0");
  const int head_dim = int_field(j, path, "head_dim", false);
  if (head_dim == 0) throw DataError(path + ": field \"head_dim\" must be at least 1, got 0");
  c.head_dim = head_dim > 0 ? head_dim : default_head_dim;
  c.n_layer = int_field(j, path, "num_hidden_layers");
  c.vocab_size = int_field(j, path, "vocab_size");
  c.context_length = int_field(j, path, "max_position_embeddings");
  c.layer_norm_eps = number_field(j, path, "rms_norm_eps", 1e-6f);
}

// llama, mistral, qwen2, qwen3 (SmolLM2 and Llama 3.x are llama).
void read_llama(const nlohmann::json& j, const std::string& path, const std::string& type, ModelConfig& c) {
  c.family = ModelFamily::Llama;
  read_transformer_shape(j, path, 0, c);
  c.rope_theta = number_field(j, path, "rope_theta", 10000.0f);
  read_rope_scaling(j, path, c);
  c.tied_head = bool_field(j, path, "tie_word_embeddings", false);
  // Qwen2 has q/k/v biases and no o_proj bias; Llama's attention_bias covers all four.
  const bool attention_bias = bool_field(j, path, "attention_bias", false);
  c.qkv_bias = type == "qwen2" || attention_bias;
  c.out_bias = attention_bias;
  c.mlp_bias = false;
  c.qk_norm = type == "qwen3";
}

// kvscope_mla: kvscope's own Llama block with multi-head latent attention (not a transformers class):
// the llama fields plus kv_lora_rank (latent width) and qk_rope_head_dim (the rotated part of each
// head_dim, and the shared rotated key cached beside the latent).
void read_mla(const nlohmann::json& j, const std::string& path, ModelConfig& c) {
  read_llama(j, path, "llama", c);
  c.kv_lora_rank = int_field(j, path, "kv_lora_rank");
  if (c.kv_lora_rank == 0) throw DataError(path + ": field \"kv_lora_rank\" must be at least 1, got 0");
  c.qk_rope_dim = int_field(j, path, "qk_rope_head_dim");
}

// A number field that may be null or absent (0 then): Gemma's softcaps.
float optional_positive(const nlohmann::json& j, const std::string& path, const char* name) {
  return number_field(j, path, name, 0.0f);
}

// Gemma 3's per-layer kinds: layer_types ("sliding_attention" | "full_attention" per layer) or, in
// older configs, sliding_window_pattern N (every Nth layer global, the others local).
void read_layer_types(const nlohmann::json& j, const std::string& path, int window, ModelConfig& c) {
  c.layer_windows.assign(std::size_t(c.n_layer), 0);
  auto types = j.find("layer_types");
  if (types != j.end() && !types->is_null()) {
    if (!types->is_array() || int(types->size()) != c.n_layer)
      throw DataError(path + ": field \"layer_types\" must list one kind per layer (" + std::to_string(c.n_layer) +
                      "), got " + types->dump().substr(0, 80));
    for (int l = 0; l < c.n_layer; ++l) {
      const nlohmann::json& t = (*types)[std::size_t(l)];
      const std::string kind = t.is_string() ? t.get<std::string>() : t.dump();
      if (kind == "sliding_attention") c.layer_windows[std::size_t(l)] = window;
      else if (kind != "full_attention")
        throw DataError(path + ": layer_types[" + std::to_string(l) + "] is \"" + kind +
                        "\" (known: sliding_attention, full_attention)");
    }
    return;
  }
  int pattern = int_field(j, path, "sliding_window_pattern", false);
  if (pattern < 0) pattern = 6;  // Hugging Face's default
  if (pattern == 0) throw DataError(path + ": field \"sliding_window_pattern\" must be at least 1, got 0");
  for (int l = 0; l < c.n_layer; ++l)
    if ((l + 1) % pattern != 0) c.layer_windows[std::size_t(l)] = window;
}

// Newer configs nest the RoPE bases: "rope_parameters": {"full_attention": {"rope_theta": ...},
// "sliding_attention": {"rope_theta": ...}}; older ones have rope_theta and rope_local_base_freq.
void read_gemma_rope(const nlohmann::json& j, const std::string& path, ModelConfig& c) {
  c.rope_theta = number_field(j, path, "rope_theta", 1000000.0f);
  c.rope_local_theta = number_field(j, path, "rope_local_base_freq", 10000.0f);
  read_rope_scaling(j, path, c);
  auto params = j.find("rope_parameters");
  if (params == j.end() || !params->is_object()) return;
  if (params->contains("full_attention") && (*params)["full_attention"].is_object()) {
    const nlohmann::json& full = (*params)["full_attention"];
    c.rope_theta = number_field(full, path, "rope_theta", c.rope_theta);
    if (full.value("rope_type", std::string("default")) != "default") {
      nlohmann::json scaling = {{"rope_scaling", full}};
      read_rope_scaling(scaling, path, c);
    }
  }
  if (params->contains("sliding_attention") && (*params)["sliding_attention"].is_object())
    c.rope_local_theta = number_field((*params)["sliding_attention"], path, "rope_theta", c.rope_local_theta);
}

// gemma3_text (Gemma3ForCausalLM). Gemma's conventions: norms (1 + w), embeddings x sqrt(hidden) (the
// weights' dtype rounding is applied when the weights are opened: round_embed_scale), scores x
// query_pre_attn_scalar^-1/2, tanh-GELU gate, tied head.
void read_gemma3(const nlohmann::json& j, const std::string& path, ModelConfig& c) {
  c.family = ModelFamily::Gemma3;
  read_transformer_shape(j, path, 256, c);  // 256: Gemma3TextConfig's default head_dim
  read_gemma_rope(j, path, c);
  const int window = int_field(j, path, "sliding_window", false);
  if (window == 0) throw DataError(path + ": field \"sliding_window\" must be at least 1, got 0");
  read_layer_types(j, path, window > 0 ? window : 4096, c);  // 4096: Hugging Face's default
  c.query_scale = 1.0f / std::sqrt(number_field(j, path, "query_pre_attn_scalar", 256.0f));
  c.embed_scale = std::sqrt(float(c.d_model));
  c.attn_softcap = optional_positive(j, path, "attn_logit_softcapping");
  c.final_softcap = optional_positive(j, path, "final_logit_softcapping");
  c.tied_head = bool_field(j, path, "tie_word_embeddings", true);
  if (bool_field(j, path, "attention_bias", false)) throw DataError(path + ": attention_bias is not supported for gemma3_text");
  if (bool_field(j, path, "use_bidirectional_attention", false))
    throw DataError(path + ": use_bidirectional_attention (an embedding model) is not supported: kvscope decodes causally");
  for (const char* name : {"hidden_activation", "hidden_act"}) {
    auto act = j.find(name);
    if (act != j.end() && !act->is_null() && *act != "gelu_pytorch_tanh")
      throw DataError(path + ": field \"" + name + "\" is " + act->dump() + " (Gemma 3 uses \"gelu_pytorch_tanh\")");
  }
  c.qkv_bias = c.out_bias = c.mlp_bias = false;
  c.qk_norm = true;
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& path) {
  const nlohmann::json j = parse_json_object(json_text, path);
  ModelConfig c;
  auto type_it = j.find("model_type");
  const std::string type = type_it != j.end() && type_it->is_string() ? type_it->get<std::string>() : "gpt2";
  if (type == "gpt2")
    read_gpt2(j, path, c);
  else if (type == "llama" || type == "mistral" || type == "qwen2" || type == "qwen3")
    read_llama(j, path, type, c);
  else if (type == "kvscope_mla")
    read_mla(j, path, c);
  else if (type == "gemma3_text")
    read_gemma3(j, path, c);
  else if (type == "gemma3" && j.contains("text_config") && j["text_config"].is_object())
    read_gemma3(j["text_config"], path + " (text_config)", c);  // the multimodal config: its text model only
  else
    throw DataError(path + ": model_type \"" + type + "\" is not supported (gpt2, llama, mistral, qwen2, qwen3, gemma3_text, kvscope_mla)");
  try {
    validate(c);
  } catch (const UsageError& e) {
    throw DataError(path + ": " + e.what());
  }
  return c;
}

}  // namespace kvscope
