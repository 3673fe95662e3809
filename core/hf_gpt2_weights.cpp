#include "core/hf_gpt2_weights.h"

#include <cstdlib>
#include <utility>

#include "core/error.h"
#include "core/hf_gpt2_names.h"
#include "core/safetensors.h"

namespace kvscope {

namespace {
std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Looks tensors up by their GPT-2 name and checks each shape against config.json.
class Gpt2TensorReader {
 public:
  Gpt2TensorReader(const SafetensorsFile& file, std::string prefix) : file_(file), prefix_(std::move(prefix)) {}

  const TensorEntry& need(const std::string& name, const std::vector<std::int64_t>& shape, bool prefixed = true) const {
    const std::string full = (prefixed ? prefix_ : "") + name;
    const TensorEntry* t = file_.find(full);
    if (!t) throw DataError(file_.path() + ": missing tensor '" + full + "'");
    if (t->shape != shape)
      throw DataError(file_.path() + ": tensor '" + full + "' has shape " + shape_text(t->shape) +
                      ", config.json needs " + shape_text(shape));
    return *t;
  }
  void vector(const std::string& name, Vector& v) const { file_.read(need(name, {v.size()}), v.data()); }
  void matrix(const std::string& name, Matrix& m, bool prefixed = true) const {
    file_.read(need(name, {m.rows(), m.cols()}, prefixed), m.data());
  }
  // Conv1D: stored [in, out]; m is [out, in].
  void conv1d(const std::string& name, Matrix& m) const {
    file_.read_transposed(need(name, {m.cols(), m.rows()}), m.data());
  }

 private:
  const SafetensorsFile& file_;
  std::string prefix_;
};

// A file with more blocks than config.json says is a config mismatch, not something to ignore.
void check_layer_count(const SafetensorsFile& file, const std::string& prefix, int n_layer) {
  const std::string blocks = prefix + "h.";
  for (const TensorEntry& t : file.tensors()) {
    if (t.name.compare(0, blocks.size(), blocks) != 0) continue;
    const long layer = std::strtol(t.name.c_str() + blocks.size(), nullptr, 10);
    if (layer >= n_layer)
      throw DataError(file.path() + ": tensor '" + t.name + "' belongs to layer " + std::to_string(layer) +
                      ", but config.json has n_layer = " + std::to_string(n_layer));
  }
}
}  // namespace

ModelWeights read_hf_gpt2_weights(const std::string& path, const ModelConfig& config) {
  return read_hf_gpt2_weights(SafetensorsFile(path), config);
}

ModelWeights read_hf_gpt2_weights(const SafetensorsFile& file, const ModelConfig& config) {
  const std::string prefix = file.find("transformer.wte.weight") ? "transformer." : "";
  check_layer_count(file, prefix, config.n_layer);
  const Gpt2TensorReader read(file, prefix);
  ModelWeights w = allocate_weights(config);
  visit_hf_gpt2_tensors(w, read);
  // nn.Linear [vocab, d]; its name never carries the "transformer." prefix.
  if (file.find("lm_head.weight")) {
    w.lm_head = Matrix::Zero(config.vocab_size, config.d_model);
    read.matrix("lm_head.weight", w.lm_head, false);
  }
  return w;
}

}  // namespace kvscope
