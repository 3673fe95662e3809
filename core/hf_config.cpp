#include "core/hf_config.h"

#include <climits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace kvscope {

namespace {
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open (a GPT-2 folder needs config.json)");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

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

ModelConfig read_hf_config(const std::string& path) { return parse_hf_config(read_text(path), path); }

ModelConfig parse_hf_config(const std::string& json_text, const std::string& path) {
  const nlohmann::json j = parse_json_object(json_text, path);
  ModelConfig c;
  c.d_model = int_field(j, path, "n_embd");
  c.n_head = int_field(j, path, "n_head");
  c.n_layer = int_field(j, path, "n_layer");
  c.vocab_size = int_field(j, path, "vocab_size");
  // GPT-2's configs carry both; n_positions sizes the position table.
  c.context_length = int_field(j, path, "n_positions", false);
  if (c.context_length < 0) c.context_length = int_field(j, path, "n_ctx", false);
  if (c.context_length < 0) throw DataError(path + ": missing field \"n_positions\" (or \"n_ctx\")");
  c.qkv_bias = true;
  auto eps = j.find("layer_norm_epsilon");
  if (eps != j.end()) {
    if (!eps->is_number()) throw DataError(path + ": field \"layer_norm_epsilon\" must be a number, got " + eps->dump());
    c.layer_norm_eps = eps->get<float>();
  }
  try {
    validate(c);
  } catch (const UsageError& e) {
    throw DataError(path + ": " + e.what());
  }
  return c;
}

}  // namespace kvscope
