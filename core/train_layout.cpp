#include "core/train_layout.h"

#include <algorithm>
#include <cassert>

#include "core/error.h"

namespace kvscope {

ParameterLayout make_layout(const ModelConfig& config) {
  validate(config);
  ParameterLayout layout;
  layout.config = config;
  const int d = config.d_model, f = config.d_ff();
  auto take = [&layout](const std::string& name, int rows, int cols, bool decay) {
    const std::int64_t offset = layout.size;
    layout.tensors.push_back({name, offset, rows, cols, decay});
    layout.size += std::int64_t(rows) * cols;
    return offset;
  };
  layout.wte = take("wte", config.vocab_size, d, true);
  layout.wpe = take("wpe", config.context_length, d, true);
  for (int l = 0; l < config.n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    LayerSlots s;
    s.ln_1_gamma = take(p + "ln_1_gamma", d, 1, false);
    s.ln_1_beta = take(p + "ln_1_beta", d, 1, false);
    s.attn_qkv = take(p + "attn_qkv", 3 * d, d, true);
    s.attn_qkv_bias = take(p + "attn_qkv_bias", 3 * d, 1, false);
    s.attn_proj = take(p + "attn_proj", d, d, true);
    s.attn_proj_bias = take(p + "attn_proj_bias", d, 1, false);
    s.ln_2_gamma = take(p + "ln_2_gamma", d, 1, false);
    s.ln_2_beta = take(p + "ln_2_beta", d, 1, false);
    s.mlp_fc = take(p + "mlp_fc", f, d, true);
    s.mlp_fc_bias = take(p + "mlp_fc_bias", f, 1, false);
    s.mlp_proj = take(p + "mlp_proj", d, f, true);
    s.mlp_proj_bias = take(p + "mlp_proj_bias", d, 1, false);
    layout.layers.push_back(s);
  }
  layout.ln_f_gamma = take("ln_f_gamma", d, 1, false);
  layout.ln_f_beta = take("ln_f_beta", d, 1, false);
  return layout;
}

namespace {

// Calls copy(tensor data, tensor size, offset) for every tensor of w, in buffer order.
template <typename Weights, typename Copy>
void pair_tensors(Weights& w, const ParameterLayout& layout, Copy copy) {
  copy(w.token_embedding.data(), w.token_embedding.size(), layout.wte);
  copy(w.position_embedding.data(), w.position_embedding.size(), layout.wpe);
  for (size_t l = 0; l < layout.layers.size(); ++l) {
    auto& lw = w.layers[l];
    const LayerSlots& s = layout.layers[l];
    copy(lw.ln_1_gamma.data(), lw.ln_1_gamma.size(), s.ln_1_gamma);
    copy(lw.ln_1_beta.data(), lw.ln_1_beta.size(), s.ln_1_beta);
    copy(lw.attn_qkv.data(), lw.attn_qkv.size(), s.attn_qkv);
    copy(lw.attn_qkv_bias.data(), lw.attn_qkv_bias.size(), s.attn_qkv_bias);
    copy(lw.attn_proj.data(), lw.attn_proj.size(), s.attn_proj);
    copy(lw.attn_proj_bias.data(), lw.attn_proj_bias.size(), s.attn_proj_bias);
    copy(lw.ln_2_gamma.data(), lw.ln_2_gamma.size(), s.ln_2_gamma);
    copy(lw.ln_2_beta.data(), lw.ln_2_beta.size(), s.ln_2_beta);
    copy(lw.mlp_fc.data(), lw.mlp_fc.size(), s.mlp_fc);
    copy(lw.mlp_fc_bias.data(), lw.mlp_fc_bias.size(), s.mlp_fc_bias);
    copy(lw.mlp_proj.data(), lw.mlp_proj.size(), s.mlp_proj);
    copy(lw.mlp_proj_bias.data(), lw.mlp_proj_bias.size(), s.mlp_proj_bias);
  }
  copy(w.ln_f_gamma.data(), w.ln_f_gamma.size(), layout.ln_f_gamma);
  copy(w.ln_f_beta.data(), w.ln_f_beta.size(), layout.ln_f_beta);
}

}  // namespace

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
