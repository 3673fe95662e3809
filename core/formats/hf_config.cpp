#include "core/formats/hf_config.h"

#include <climits>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/engine/error.h"
#include "core/engine/read_file.h"

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
  if (type != "llama3")
    throw DataError(path + ": rope_scaling type \"" + type + "\" is not supported (only \"llama3\" or none)");
  c.rope_scaling.factor = number_field(r, path, "factor", 0.0f);
  c.rope_scaling.low_freq_factor = number_field(r, path, "low_freq_factor", 1.0f);
  c.rope_scaling.high_freq_factor = number_field(r, path, "high_freq_factor", 4.0f);
  c.rope_scaling.original_context = int_field(r, path, "original_max_position_embeddings");
}

// llama, mistral, qwen2, qwen3 (SmolLM2 and Llama 3.x are llama).
void read_llama(const nlohmann::json& j, const std::string& path, const std::string& type, ModelConfig& c) {
  c.family = ModelFamily::Llama;
  c.d_model = int_field(j, path, "hidden_size");
  c.ff_dim = int_field(j, path, "intermediate_size");
  c.n_head = int_field(j, path, "num_attention_heads");
  c.n_kv_head = int_field(j, path, "num_key_value_heads", false);
  if (c.n_kv_head < 0) c.n_kv_head = c.n_head;
  if (c.n_kv_head == 0) throw DataError(path + ": field \"num_key_value_heads\" must be at least 1, got 0");
  const int head_dim = int_field(j, path, "head_dim", false);
  c.head_dim = head_dim > 0 ? head_dim : 0;
  if (head_dim == 0) throw DataError(path + ": field \"head_dim\" must be at least 1, got 0");
  c.n_layer = int_field(j, path, "num_hidden_layers");
  c.vocab_size = int_field(j, path, "vocab_size");
  c.context_length = int_field(j, path, "max_position_embeddings");
  c.layer_norm_eps = number_field(j, path, "rms_norm_eps", 1e-6f);
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
  else
    throw DataError(path + ": model_type \"" + type + "\" is not supported (gpt2, llama, mistral, qwen2, qwen3)");
  try {
    validate(c);
  } catch (const UsageError& e) {
    throw DataError(path + ": " + e.what());
  }
  return c;
}

}  // namespace kvscope
