#include "core/formats/hf_weights.h"

#include <cstdlib>
#include <utility>
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/model/tensor_table.h"

namespace kvscope {

namespace {

// The shape a tensor has in the file: vectors 1-D, Conv1D weights [in, out].
std::vector<std::int64_t> file_shape(const TensorSpec& spec) {
  if (spec.is_vector()) return {spec.rows};
  if (spec.stored_transposed) return {spec.cols, spec.rows};
  return {spec.rows, spec.cols};
}

// A file with more blocks than config.json says is a config mismatch, not something to ignore.
void check_layer_count(const SafetensorsFile& file, const std::string& blocks, int n_layer) {
  for (const TensorEntry& t : file.tensors()) {
    if (t.name.compare(0, blocks.size(), blocks) != 0) continue;
    const long layer = std::strtol(t.name.c_str() + blocks.size(), nullptr, 10);
    if (layer >= n_layer)
      throw DataError(file.path() + ": tensor '" + t.name + "' belongs to layer " + std::to_string(layer) +
                      ", but config.json says the model has " + std::to_string(n_layer) +
                      (n_layer == 1 ? " layer" : " layers"));
  }
}

// A vector (norm, bias: a few KB) is held as float32 whatever the file stores.
void read_tensor(const SafetensorsFile& file, const TensorEntry& entry, const TensorSpec& spec, Vector& t) {
  t.resize(spec.rows);
  file.read(entry, t.data());
}

// A matrix keeps the file's dtype: F16 and BF16 stay 16-bit (weight_matrix.h).
void read_tensor(const SafetensorsFile& file, const TensorEntry& entry, const TensorSpec& spec, WeightMatrix& t) {
  if (entry.dtype == "F16" || entry.dtype == "BF16") {
    WeightMatrix::Bits bits(std::size_t(entry.element_count));
    if (spec.stored_transposed)
      file.read_bits_transposed(entry, bits.data());
    else
      file.read_bits(entry, bits.data());
    const WeightDtype dtype = entry.dtype == "BF16" ? WeightDtype::BF16 : WeightDtype::F16;
    t = WeightMatrix::from_bits(dtype, spec.rows, spec.cols, std::move(bits));
    return;
  }
  Matrix values(spec.rows, spec.cols);
  if (spec.stored_transposed)
    file.read_transposed(entry, values.data());
  else
    file.read(entry, values.data());  // DataError for a dtype kvscope does not read
  t = std::move(values);
}

}  // namespace

ModelWeights read_hf_weights(const std::string& path, const ModelConfig& config) {
  return read_hf_weights(SafetensorsFile(path), config);
}

ModelWeights read_hf_weights(const SafetensorsFile& file, const ModelConfig& config) {
  ModelWeights w;  // every tensor the table requires is read below, so none is allocated first
  w.layers.resize(std::size_t(config.n_layer));
  std::string prefix;
  visit_tensors(config, w, [&](const TensorSpec& spec, auto&) {
    if (spec.role != TensorRole::TokenEmbedding || file.find(spec.name)) return;
    // GPT-2's save_pretrained; Gemma 3's multimodal checkpoints hold the text model under language_model.
    for (const char* candidate : {"transformer.", "language_model."})
      if (file.find(candidate + spec.name)) prefix = candidate;
  });
  check_layer_count(file, prefix + layer_name_prefix(config), config.n_layer);
  visit_tensors(config, w, [&](const TensorSpec& spec, auto& t) {
    // The output head is an nn.Linear outside the transformer: its name never carries the prefix.
    const std::string name = (spec.role == TensorRole::OutputHead ? "" : prefix) + spec.name;
    const TensorEntry* entry = file.find(name);
    if (!entry && spec.optional) return;
    if (!entry) throw DataError(file.path() + ": missing tensor '" + name + "'");
    if (entry->shape != file_shape(spec))
      throw DataError(file.path() + ": tensor '" + name + "' has shape " + shape_text(entry->shape) +
                      ", config.json needs " + shape_text(file_shape(spec)));
    read_tensor(file, *entry, spec, t);
  });
  return w;
}

void round_embed_scale(ModelConfig& config, const SafetensorsFile& file) {
  if (config.embed_scale <= 0.0f) return;
  ModelWeights shapes;
  shapes.layers.resize(std::size_t(config.n_layer));
  const TensorEntry* embedding = nullptr;
  visit_tensors(config, shapes, [&](const TensorSpec& spec, const auto&) {
    if (spec.role != TensorRole::TokenEmbedding) return;
    for (const char* prefix : {"", "transformer.", "language_model."})
      if (!embedding) embedding = file.find(prefix + spec.name);
  });
  if (!embedding) return;  // read_hf_weights names the missing tensor
  if (embedding->dtype == "BF16") config.embed_scale = bfloat16_to_float(float_to_bfloat16(config.embed_scale));
  if (embedding->dtype == "F16") config.embed_scale = half_to_float(float_to_half(config.embed_scale));
}

}  // namespace kvscope
