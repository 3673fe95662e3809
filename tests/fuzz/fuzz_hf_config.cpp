// Any bytes as config.json (GPT-2, Llama, Gemma 3 (layer_types, sliding_window, rope bases) or kvscope_mla): a validated ModelConfig or a DataError, never a crash.
#include "core/engine/kernels/error.h"
#include "core/formats/hf_config.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_scratch("config.json", data, size);
  try {
    const kvscope::ModelConfig config = kvscope::read_hf_config(path);
    // Validation let a bad shape through:
    if (config.n_head % config.kv_heads() != 0 || config.d_head() < 1 || config.d_ff() < 1) std::abort();
    if (config.rotary() && config.d_head() % 2 != 0) std::abort();
    if (!config.layer_windows.empty() && int(config.layer_windows.size()) != config.n_layer) std::abort();
    for (int l = 0; l < config.n_layer; ++l)
      if (config.layer_window(l) < 0 || config.effective_window(l, 0) != config.layer_window(l)) std::abort();
    if (config.n_local_layers() > 0 && !(config.rope_local_theta > 0.0f)) std::abort();
    if (!(config.score_scale() > 0.0f) || !(config.embed_scale >= 0.0f)) std::abort();
    if (config.kv_rows_held(3) > 3LL * config.n_layer) std::abort();
    if (config.mla() && (config.qk_rope_dim % 2 != 0 || config.qk_nope_dim() < 1 || config.kv_heads() != config.n_head)) std::abort();
    if (config.kv_bytes_per_position() != std::int64_t(config.n_layer) * config.cache_row_floats() * 4) std::abort();
  } catch (const kvscope::DataError&) {
  } catch (const kvscope::UsageError&) {
  }
  return 0;
}
