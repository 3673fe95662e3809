#include "core/formats/model_folder_writer.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/engine/kernels/error.h"
#include "core/engine/model/tensor_table.h"
#include "core/formats/safetensors_writer.h"

namespace kvscope {

namespace fs = std::filesystem;

namespace {

// The float epsilon as the decimal it was meant to be (1e-5f -> 1e-05, not 9.99999974e-06).
double short_decimal(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.7g", double(value));
  return std::strtod(text, nullptr);
}

// config.json as Hugging Face's LlamaForCausalLM writes it.
nlohmann::json hf_llama_config(const ModelConfig& c) {
  nlohmann::json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.context_length;
  j["hidden_size"] = c.d_model;
  j["intermediate_size"] = c.d_ff();
  j["num_attention_heads"] = c.n_head;
  j["num_key_value_heads"] = c.kv_heads();
  j["head_dim"] = c.d_head();
  j["num_hidden_layers"] = c.n_layer;
  j["rms_norm_eps"] = short_decimal(c.layer_norm_eps);
  j["rope_theta"] = short_decimal(c.rope_theta);
  j["rope_scaling"] = nullptr;
  j["hidden_act"] = "silu";
  j["attention_bias"] = c.out_bias;
  j["mlp_bias"] = false;
  j["torch_dtype"] = "float32";
  if (c.mla()) {  // kvscope's own model type: a Llama block with multi-head latent attention
    j["architectures"] = {"KvscopeMlaForCausalLM"};
    j["model_type"] = "kvscope_mla";
    j["kv_lora_rank"] = c.kv_lora_rank;
    j["qk_rope_head_dim"] = c.qk_rope_dim;
  }
  return j;
}

nlohmann::json hf_config(const ModelConfig& c, const nlohmann::json& extra) {
  nlohmann::json j;
  if (c.traits().qkv == QkvLayout::Separate) {  // the writer's two layouts: GPT-2's and Llama's (save_model_folder)
    j = hf_llama_config(c);
    if (extra.is_object())
      for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    return j;
  }
  j["architectures"] = {"GPT2LMHeadModel"};
  j["model_type"] = "gpt2";
  j["vocab_size"] = c.vocab_size;
  j["n_positions"] = c.context_length;
  j["n_ctx"] = c.context_length;
  j["n_embd"] = c.d_model;
  j["n_head"] = c.n_head;
  j["n_layer"] = c.n_layer;
  j["layer_norm_epsilon"] = short_decimal(c.layer_norm_eps);
  j["activation_function"] = "gelu_new";  // the tanh approximation
  j["resid_pdrop"] = j["embd_pdrop"] = j["attn_pdrop"] = 0.0;
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

// A vector under its Hugging Face name, F32.
void add_tensor(const TensorSpec& spec, const Vector& t, std::vector<NamedTensor>& tensors,
                std::vector<std::vector<float>>&) {
  tensors.push_back({spec.name, {t.rows()}, "F32", t.data()});
}

// A matrix in the dtype it is held in (16-bit values widen and narrow back exactly); a Conv1D weight
// transposed to the file's [in, out].
void add_tensor(const TensorSpec& spec, const WeightMatrix& t, std::vector<NamedTensor>& tensors,
                std::vector<std::vector<float>>& storage) {
  const char* dtype = dtype_name(t.dtype());
  if (t.dtype() == WeightDtype::F32 && !spec.stored_transposed) {
    tensors.push_back({spec.name, {t.rows(), t.cols()}, dtype, t.data()});
    return;
  }
  storage.emplace_back(size_t(t.size()));  // moving storage keeps this buffer where it is
  if (spec.stored_transposed) {  // [out, in] -> [in, out]
    Eigen::Map<Matrix>(storage.back().data(), t.cols(), t.rows()) = t.widened().transpose();
    tensors.push_back({spec.name, {t.cols(), t.rows()}, dtype, storage.back().data()});
  } else {
    widen_rows(t.view(), 0, t.rows(), storage.back().data());
    tensors.push_back({spec.name, {t.rows(), t.cols()}, dtype, storage.back().data()});
  }
}

// Every tensor under its Hugging Face name (the family's table); copies made for the file in storage.
std::vector<NamedTensor> hf_tensors(const ModelConfig& c, const ModelWeights& w,
                                    std::vector<std::vector<float>>& storage) {
  std::vector<NamedTensor> tensors;
  visit_tensors(c, w, [&](const TensorSpec& spec, const auto& t) {
    if (t.size() == 0) return;  // no untied head
    add_tensor(spec, t, tensors, storage);
  });
  return tensors;
}

void check_vocabulary(const std::vector<std::string>& vocabulary, int vocab_size) {
  if (int(vocabulary.size()) != vocab_size)
    throw UsageError("the vocabulary has " + std::to_string(vocabulary.size()) + " words, the model " +
                     std::to_string(vocab_size));
  std::set<std::string> seen;
  for (const std::string& word : vocabulary) {
    if (word.empty() || word.find_first_of("\r\n") != std::string::npos)
      throw UsageError("vocabulary word '" + word + "' cannot be one line of vocab.txt");
    if (!seen.insert(word).second) throw UsageError("vocabulary word '" + word + "' appears twice");
  }
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw DataError(path.string() + ": cannot write");
}

fs::path target_path(const std::string& dir) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  if (target.empty() || target == "." || target == ".." || target == target.root_path())
    throw UsageError("'" + dir + "' cannot be a model folder");
  return target;
}

// Moves the finished folder to target; a model folder already there is moved aside, then deleted.
void publish(const fs::path& staged, const fs::path& target) {
  std::error_code error;
  if (fs::exists(target, error) && !fs::is_empty(target, error)) {
    const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
    fs::rename(target, old, error);
    if (error) throw DataError(target.string() + ": cannot move the old folder aside: " + error.message());
    fs::rename(staged, target, error);
    if (error) {
      fs::rename(old, target, error);  // put the old folder back
      throw DataError(target.string() + ": cannot move the new folder in place");
    }
    fs::remove_all(old, error);
    return;
  }
  fs::rename(staged, target, error);  // replaces an empty folder
  if (error) throw DataError(target.string() + ": cannot move the new folder in place: " + error.message());
}

}  // namespace

void check_save_target(const std::string& dir, bool replace_existing) {
  const fs::path target = target_path(dir);
  std::error_code error;
  // The nearest existing ancestor must be a folder, or the folders cannot be created.
  for (fs::path p = target.parent_path(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, error)) {
      if (!fs::is_directory(p, error)) throw UsageError(p.string() + " is not a folder, so " + target.string() + " cannot be made");
      break;
    }
    if (p == p.root_path()) break;
  }
  if (!fs::exists(target, error)) return;
  if (!fs::is_directory(target, error)) throw UsageError(target.string() + " exists and is not a folder");
  if (fs::is_empty(target, error)) return;
  if (!replace_existing)
    throw UsageError(target.string() + " already exists and is not empty (replace it with --overwrite)");
  if (!fs::exists(target / "config.json", error))
    throw UsageError(target.string() + " holds files but no config.json: not replacing a folder that is not a model folder");
}

void save_model_folder(const std::string& dir, const ModelConfig& config, const ModelWeights& weights,
                       const std::vector<std::string>& vocabulary, const SaveFolderOptions& options) {
  validate(config);
  if (config.traits().sandwich_norms || config.traits().norm_gain_offset || !config.layer_windows.empty())
    throw UsageError(std::string("kvscope writes GPT-2 and Llama folders with global layers only, not ") + config.family_name());
  check_shapes(weights, config);
  if (options.tokenizer_json.empty()) check_vocabulary(vocabulary, config.vocab_size);
  check_save_target(dir, options.replace_existing);
  const fs::path target = target_path(dir);
  std::error_code error;
  const fs::path parent = target.parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, error);
    if (error) throw DataError(parent.string() + ": cannot create the folder: " + error.message());
  }
  const fs::path staged = (parent.empty() ? fs::path(".") : parent) /
                          ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(staged, error);
  fs::create_directory(staged, error);
  if (error) throw DataError(staged.string() + ": cannot create the folder: " + error.message());
  try {
    nlohmann::json config_json = hf_config(config, options.extra_config);
    config_json["tie_word_embeddings"] = weights.lm_head.size() == 0;  // an untied head is written as lm_head
    write_text(staged / "config.json", config_json.dump(2) + "\n");
    if (!options.tokenizer_json.empty()) {
      write_text(staged / "tokenizer.json", options.tokenizer_json);
    } else {
      std::string words;
      for (const std::string& word : vocabulary) words += word + "\n";
      write_text(staged / "vocab.txt", words);
    }
    std::vector<std::vector<float>> storage;
    write_safetensors((staged / "model.safetensors").string(), hf_tensors(config, weights, storage), {{"format", "pt"}});
    publish(staged, target);
  } catch (...) {
    fs::remove_all(staged, error);
    throw;
  }
}

}  // namespace kvscope
