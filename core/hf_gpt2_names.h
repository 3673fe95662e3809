#pragma once
// GPT-2's Hugging Face tensor names, in file order, paired with the weights they hold: the reader
// fills the matrices by these names, the writer stores them under them, so the two cannot drift.
// The visitor is called as matrix(name, m) for tensors stored as held, conv1d(name, m) for Conv1D
// weights (stored [in, out], held [out, in]) and vector(name, v). The untied output head
// (lm_head.weight) is not in the list: only the reader handles it.
#include <string>

namespace kvscope {

template <class Weights, class Visitor>  // Weights: ModelWeights or const ModelWeights
void visit_hf_gpt2_tensors(Weights& w, Visitor&& v) {
  v.matrix("wte.weight", w.token_embedding);
  v.matrix("wpe.weight", w.position_embedding);
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    auto& l = w.layers[i];
    const std::string h = "h." + std::to_string(i) + ".";
    v.vector(h + "ln_1.weight", l.ln_1_gamma);
    v.vector(h + "ln_1.bias", l.ln_1_beta);
    v.conv1d(h + "attn.c_attn.weight", l.attn_qkv);
    v.vector(h + "attn.c_attn.bias", l.attn_qkv_bias);
    v.conv1d(h + "attn.c_proj.weight", l.attn_proj);
    v.vector(h + "attn.c_proj.bias", l.attn_proj_bias);
    v.vector(h + "ln_2.weight", l.ln_2_gamma);
    v.vector(h + "ln_2.bias", l.ln_2_beta);
    v.conv1d(h + "mlp.c_fc.weight", l.mlp_fc);
    v.vector(h + "mlp.c_fc.bias", l.mlp_fc_bias);
    v.conv1d(h + "mlp.c_proj.weight", l.mlp_proj);
    v.vector(h + "mlp.c_proj.bias", l.mlp_proj_bias);
  }
  v.vector("ln_f.weight", w.ln_f_gamma);
  v.vector("ln_f.bias", w.ln_f_beta);
}

}  // namespace kvscope
