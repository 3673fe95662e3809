#include "core/engine/forward/numerics.h"

#include "core/engine/kernels/half_float.h"

namespace kvscope {

bool parse_compute_dtype(const std::string& text, WeightDtype* out) {
  if (text == "f32" || text == "float32" || text == "fp32")
    *out = WeightDtype::F32;
  else if (text == "bf16" || text == "bfloat16")
    *out = WeightDtype::BF16;
  else if (text == "f16" || text == "float16" || text == "fp16")
    *out = WeightDtype::F16;
  else
    return false;
  return true;
}

const char* compute_dtype_name(WeightDtype dtype) {
  return dtype == WeightDtype::BF16 ? "bf16" : dtype == WeightDtype::F16 ? "f16" : "f32";
}

std::string compute_dtype_names() { return "f32, bf16, f16"; }

std::string describe(const Numerics& numerics) {
  return std::string(compute_dtype_name(numerics.compute)) + (numerics.same_order ? ", same order" : "");
}

bool parse_numerics(const std::string& spec, Numerics* out) {
  Numerics n;
  std::string dtype = spec;
  const std::size_t comma = spec.find(',');
  if (comma != std::string::npos) {
    std::string rest = spec.substr(comma + 1);
    while (!rest.empty() && rest.front() == ' ') rest.erase(rest.begin());
    if (rest != "same-order" && rest != "same order") return false;
    n.same_order = true;
    dtype = spec.substr(0, comma);
  }
  if (!parse_compute_dtype(dtype, &n.compute)) return false;
  *out = n;
  return true;
}

void round_values(const Numerics& numerics, float* values, Eigen::Index n) {
  if (!numerics.rounds()) return;
  round_through_half(values, std::size_t(n), numerics.compute == WeightDtype::BF16);
}

}  // namespace kvscope
