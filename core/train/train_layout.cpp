#include "core/train/train_layout.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "core/engine/kernels/error.h"
#include "core/engine/model/tensor_table.h"

namespace kvscope {

namespace {

// Calls copy(tensor data, tensor size, offset) for every tensor of w, in the family table's order,
// which is the buffer's order. A tied model has no head tensor.
template <typename Weights, typename Copy>
void pair_tensors(Weights& w, const ParameterLayout& layout, Copy copy) {
  std::size_t i = 0;
  visit_tensors(layout.config, w, [&](const TensorSpec& spec, auto& t) {
    if (spec.role == TensorRole::OutputHead) return;  // training ties the head
    copy(t.data(), t.size(), layout.tensors[i++].offset);
  });
}

}  // namespace

ParameterLayout make_layout(const ModelConfig& config) {
  validate(config);
  if (!trainer_implements(config.traits()) || !config.layer_windows.empty())
    throw UsageError(std::string("the trainer trains GPT-2 and Llama layouts with global layers only, not ") + config.family_name());
  if (config.traits().qkv == QkvLayout::Separate && (config.qkv_bias || config.out_bias || config.qk_norm || !config.tied_head ||
                                              config.rope_scaling.factor > 0.0f))
    throw UsageError("the trainer's Llama has no biases, no q/k norms, no rope scaling and a tied head");
  ParameterLayout layout;
  layout.config = config;
  // Offsets in table order; the trainer's named slots are found by the tensor each one fills.
  ModelWeights shape = allocate_weights(config);
  std::map<const float*, std::int64_t> offset_of;
  visit_tensors(config, shape, [&](const TensorSpec& spec, auto& t) {
    if (spec.role == TensorRole::OutputHead) return;  // training ties the head
    layout.tensors.push_back({spec.name, layout.size, spec.rows, spec.cols, spec.decays()});
    offset_of[t.data()] = layout.size;
    layout.size += std::int64_t(spec.rows) * spec.cols;
  });
  auto at = [&offset_of](const auto& t) {
    auto it = t.size() ? offset_of.find(t.data()) : offset_of.end();
    return it == offset_of.end() ? kNoSlot : it->second;
  };
  layout.wte = at(shape.token_embedding);
  layout.wpe = at(shape.position_embedding);
  for (const LayerWeights& l : shape.layers)
    layout.layers.push_back({at(l.ln_1_gamma), at(l.ln_1_beta), at(l.attn_qkv), at(l.attn_qkv_bias), at(l.attn_q),
                             at(l.attn_k), at(l.attn_v), at(l.attn_kv_down), at(l.attn_k_rope), at(l.attn_k_up),
                             at(l.attn_v_up), at(l.attn_proj), at(l.attn_proj_bias), at(l.ln_2_gamma),
                             at(l.ln_2_beta), at(l.mlp_fc), at(l.mlp_fc_bias), at(l.mlp_gate), at(l.mlp_up),
                             at(l.mlp_proj), at(l.mlp_proj_bias)});
  layout.ln_f_gamma = at(shape.ln_f_gamma);
  layout.ln_f_beta = at(shape.ln_f_beta);
  return layout;
}

std::vector<float> flatten(const ModelWeights& weights, const ParameterLayout& layout) {
  check_shapes(weights, layout.config);
  if (weights.lm_head.size()) throw DataError("training needs a tied output head (lm_head is set)");
  std::vector<float> params(size_t(layout.size));
  pair_tensors(weights, layout, [&params](const float* data, Eigen::Index n, std::int64_t offset) {
    std::copy(data, data + n, params.begin() + offset);
  });
  return params;
}

ModelWeights unflatten(const std::vector<float>& params, const ParameterLayout& layout) {
  assert(std::int64_t(params.size()) == layout.size && "buffer made for another layout");
  ModelWeights weights = allocate_weights(layout.config);
  pair_tensors(weights, layout, [&params](float* data, Eigen::Index n, std::int64_t offset) {
    std::copy(params.begin() + offset, params.begin() + offset + n, data);
  });
  return weights;
}

}  // namespace kvscope
