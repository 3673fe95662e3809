#include "core/config.h"

#include "core/error.h"

namespace kvscope {

std::int64_t ModelConfig::parameter_count() const {
  const std::int64_t d = d_model;
  const std::int64_t per_layer = 2 * d                    // ln_1
                                 + d * 3 * d + 3 * d      // c_attn
                                 + d * d + d              // attn c_proj
                                 + 2 * d                  // ln_2
                                 + d * 4 * d + 4 * d      // c_fc
                                 + 4 * d * d + d;         // mlp c_proj
  return std::int64_t(vocab_size) * d + std::int64_t(context_length) * d + n_layer * per_layer + 2 * d;
}

void validate(const ModelConfig& c) {
  auto fail = [](const std::string& what) { throw UsageError("invalid model config: " + what); };
  if (c.vocab_size < 1) fail("vocab_size must be at least 1, got " + std::to_string(c.vocab_size));
  if (c.context_length < 1)
    fail("context_length must be at least 1, got " + std::to_string(c.context_length));
  if (c.d_model < 1) fail("d_model must be at least 1, got " + std::to_string(c.d_model));
  if (c.n_head < 1) fail("n_head must be at least 1, got " + std::to_string(c.n_head));
  if (c.n_layer < 1) fail("n_layer must be at least 1, got " + std::to_string(c.n_layer));
  if (c.d_model % c.n_head != 0)
    fail("n_head (" + std::to_string(c.n_head) + ") must divide d_model (" + std::to_string(c.d_model) + ")");
  if (!(c.layer_norm_eps > 0.0f) || c.layer_norm_eps > 1.0f) fail("layer_norm_eps must be in (0, 1]");
  // Keeps every weight matrix index inside 32-bit Eigen sizes.
  if (std::int64_t(c.d_model) * 4 * c.d_model > (1LL << 31) || std::int64_t(c.vocab_size) * c.d_model > (1LL << 31) ||
      std::int64_t(c.context_length) * c.d_model > (1LL << 31))
    fail("dimensions too large (a weight matrix would exceed 2^31 values)");
}

ModelConfig preset_config(const std::string& name) {
  ModelConfig c;
  if (name == "demo") {
    c.vocab_size = 0;  // filled from the demo vocabulary by the caller
    c.context_length = 32;
    c.d_model = 64;
    c.n_head = 4;
    c.n_layer = 2;
    return c;
  }
  if (name == "gpt2-small") {
    c.vocab_size = 50257;
    c.context_length = 1024;
    c.d_model = 768;
    c.n_head = 12;
    c.n_layer = 12;
    return c;
  }
  throw UsageError("unknown preset '" + name + "' (known: demo, gpt2-small)");
}

std::vector<std::string> preset_names() { return {"demo", "gpt2-small"}; }

}  // namespace kvscope
