#include "core/engine/model/weights.h"

#include <cmath>
#include <string>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/random.h"
#include "core/engine/model/tensor_table.h"

namespace kvscope {

namespace {
// A required tensor's zeros (norm gains: ones); optional ones stay empty, allocated by whoever reads one.
template <class Tensor>
void allocate(const TensorSpec& spec, Tensor& t) {
  if (spec.optional) return;
  t.setZero(spec.rows, spec.cols);
  if (spec.role == TensorRole::NormGain) t.setOnes();
}

void fill_normal(float* data, std::int64_t n, float stddev, SplitMix64& rng) {
  for (std::int64_t i = 0; i < n; ++i) data[i] = stddev * rng.normal();
}

void convert(Vector&, WeightDtype) {}  // vectors stay float32
void convert(WeightMatrix& m, WeightDtype dtype) {
  if (m.size()) m = m.converted(dtype);
}
}  // namespace

ModelWeights allocate_weights(const ModelConfig& c) {
  ModelWeights w;
  w.layers.resize(c.n_layer);
  visit_tensors(c, w, [](const TensorSpec& spec, auto& t) { allocate(spec, t); });
  return w;
}

ModelWeights random_weights(const ModelConfig& c, std::uint64_t seed, WeightDtype dtype) {
  validate(c);
  ModelWeights w;
  w.layers.resize(c.n_layer);
  SplitMix64 rng(seed);
  const float std_residual = 0.02f / std::sqrt(2.0f * c.n_layer);  // GPT-2's scaled residual init
  // Tensor by tensor, converted as soon as filled: memory never holds the whole model in float32.
  visit_tensors(c, w, [&](const TensorSpec& spec, auto& t) {
    allocate(spec, t);
    switch (spec.init) {
      case TensorInit::Normal: fill_normal(t.data(), t.size(), 0.02f, rng); break;
      case TensorInit::NormalSmall: fill_normal(t.data(), t.size(), 0.01f, rng); break;
      case TensorInit::Residual: fill_normal(t.data(), t.size(), std_residual, rng); break;
      case TensorInit::Default: break;  // zeros; norm gains one
    }
    convert(t, dtype);
  });
  return w;
}

void check_shapes(const ModelWeights& w, const ModelConfig& c) {
  if (int(w.layers.size()) != c.n_layer)
    throw DataError("model has " + std::to_string(w.layers.size()) + " layers, config needs " +
                    std::to_string(c.n_layer));
  visit_tensors(c, w, [](const TensorSpec& spec, const auto& t) {
    if (spec.optional && t.size() == 0) return;
    if (t.rows() != spec.rows || t.cols() != spec.cols)
      throw DataError("tensor " + spec.name + " has shape " + shape_text({t.rows(), t.cols()}) +
                      ", config needs " + shape_text({spec.rows, spec.cols}));
  });
}

std::int64_t parameter_count(const ModelConfig& c) {
  ModelWeights shapes;  // no storage: the table gives every shape
  shapes.layers.resize(c.n_layer);
  std::int64_t n = 0;
  visit_tensors(c, shapes, [&n](const TensorSpec& spec, const auto&) {
    if (!spec.optional) n += std::int64_t(spec.rows) * spec.cols;
  });
  return n;
}

namespace {
std::int64_t bytes_held(const Vector& v) { return std::int64_t(v.size()) * std::int64_t(sizeof(float)); }
std::int64_t bytes_held(const WeightMatrix& m) { return m.bytes(); }
}  // namespace

std::int64_t weight_bytes(const ModelWeights& w, const ModelConfig& c) {
  std::int64_t n = 0;
  visit_tensors(c, w, [&n](const TensorSpec&, const auto& t) { n += bytes_held(t); });
  return n;
}

double decode_weight_bytes(const ModelWeights& w, const ModelConfig& c) {
  auto row_bytes = [](const WeightMatrix& m) { return m.rows() ? double(m.bytes()) / double(m.rows()) : 0.0; };
  const double tables = double(w.token_embedding.bytes() + w.position_embedding.bytes());
  const double tied_head = w.lm_head.size() ? 0.0 : double(w.token_embedding.bytes());
  return double(weight_bytes(w, c)) - tables + row_bytes(w.token_embedding) + row_bytes(w.position_embedding) + tied_head;
}

void convert_weights(ModelWeights& w, const ModelConfig& c, WeightDtype dtype) {
  visit_tensors(c, w, [dtype](const TensorSpec&, auto& t) { convert(t, dtype); });
}

}  // namespace kvscope
