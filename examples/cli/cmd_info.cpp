// kvscope-cli info: what a model is and what its KV cache costs per token, before running it.
#include <cstdio>
#include <string>
#include <memory>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/engine/kernels/isa.h"
#include "core/engine/model/weights.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

struct InfoOptions {
  ModelOptions model;
  bool json = false;
};

nlohmann::json describe(const LoadedModel& loaded) {
  const ModelConfig& c = loaded.model->config();
  nlohmann::json layers = nlohmann::json::array();
  for (int l = 0; l < c.n_layer; ++l)
    layers.push_back({{"layer", l}, {"attention", c.layer_attention_name(l)}, {"window", c.layer_window(l)}});
  nlohmann::json j = {{"name", loaded.name},
          {"family", c.family_name()},
          {"attention", c.attention_kind()},
          {"n_layer", c.n_layer},
          {"n_head", c.n_head},
          {"n_kv_head", c.kv_heads()},
          {"head_dim", c.d_head()},
          {"d_model", c.d_model},
          {"d_ff", c.d_ff()},
          {"vocab_size", c.vocab_size},
          {"positions", c.rotary() ? "rope" : "learned"},
          {"context_length", c.context_length},
          {"parameters", parameter_count(c)},
          {"weight_bytes", weight_bytes(loaded.model->weights(), c)},
          {"isa", active_kernels().isa},
          {"cache_bytes_per_token", c.kv_bytes_per_position()},
          {"layers", layers}};
  if (c.mla()) {  // what is cached instead of K and V, and what MHA with the same heads would cache
    j["kv_lora_rank"] = c.kv_lora_rank;
    j["qk_rope_head_dim"] = c.qk_rope_dim;
    j["mha_cache_bytes_per_token"] = 2LL * c.n_layer * c.n_head * c.d_head() * 4;
  }
  return j;
}

int run_info(const InfoOptions& o) {
  const LoadedModel loaded = o.model.load();
  const nlohmann::json j = describe(loaded);
  if (o.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  const ModelConfig& c = loaded.model->config();
  std::printf("%s: %s family, %d layers, %d query heads, %d K/V heads (%s), head_dim %d\n", loaded.name.c_str(),
              c.family_name(), c.n_layer, c.n_head, c.kv_heads(), c.attention_kind(), c.d_head());
  std::printf("positions: %s, context length %d\n", c.rotary() ? "rotary (RoPE)" : "learned table", c.context_length);
  std::printf("parameters: %lld (%lld weight bytes as held; %s kernels)\n", (long long)parameter_count(c),
              (long long)weight_bytes(loaded.model->weights(), c), active_kernels().isa);
  if (c.mla())
    std::printf("cache per token: %d layers x (%d latent + %d rotated key) x 4 B = %lld B (MHA would cache 2 x %d x %d "
                "heads x %d head_dim x 4 B = %lld B); K and V are rebuilt from the latent every step\n",
                c.n_layer, c.kv_lora_rank, c.qk_rope_dim, (long long)c.kv_bytes_per_position(), c.n_layer, c.n_head,
                c.d_head(), (long long)j["mha_cache_bytes_per_token"].get<std::int64_t>());
  else
    std::printf("KV cache per token: 2 x %d layers x %d K/V heads x %d head_dim x 4 B = %lld B\n", c.n_layer,
                c.kv_heads(), c.d_head(), (long long)c.kv_bytes_per_position());
  const int n_local = c.n_local_layers();
  if (n_local == 0) {
    std::printf("layers: all global attention (no window of their own)\n");
  } else {
    std::string kinds;
    for (int l = 0; l < c.n_layer; ++l) kinds += c.layer_local(l) ? "L" : "G";
    std::printf("layers: %d local (each holds at most its window of K/V rows), %d global (grow with every token): %s\n",
                n_local, c.n_layer - n_local, kinds.c_str());
    const std::int64_t t = c.context_length;
    std::printf("KV cache at %lld tokens: %lld B with these windows, %lld B if every layer were global\n", (long long)t,
                (long long)c.kv_bytes_held(t), (long long)(c.kv_bytes_per_position() * t));
  }
  return 0;
}

void add_info(CLI::App& app, Runner& run) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "A model's family, heads, positions and KV cache bytes per token");
  o->model.add_to(*cmd);
  cmd->add_flag("--json", o->json, "one JSON document");
  cmd->callback([o, &run] { run = [o] { return run_info(*o); }; });
}

const CommandRegistrar registrar(25, add_info);

}  // namespace

}  // namespace kvscope::cli
