#include "core/engine/forward/key_rows.h"

#include <cassert>

namespace kvscope {

KeyRows KeyRows::from(std::int64_t begin) const {
  KeyRows out = *this;
  if (dtype == WeightDtype::F32) {
    out.keys = keys + begin;
    out.values = values + begin;
  } else {
    out.keys16 = keys16 + begin;
    out.values16 = values16 + begin;
  }
  return out;
}

const HalfRowKernels& half_row_kernels(const KernelSet& kernels, WeightDtype dtype) {
  assert(dtype != WeightDtype::F32 && "float32 rows use the float kernels");
  return dtype == WeightDtype::F16 ? kernels.f16_rows : kernels.bf16_rows;
}

void KeyRows::scores(const KernelSet& kernels, const float* q, std::int64_t count, int dim, float scale,
                     float* out) const {
  if (dtype == WeightDtype::F32)
    kernels.attention_scores(q, keys, count, dim, scale, out);
  else
    half_row_kernels(kernels, dtype).attention_scores(q, keys16, count, dim, scale, out);
}

void KeyRows::weighted_sum(const KernelSet& kernels, const float* weights, std::int64_t count, int dim,
                           float* out) const {
  if (dtype == WeightDtype::F32)
    kernels.weighted_sum(weights, values, count, dim, out);
  else
    half_row_kernels(kernels, dtype).weighted_sum(weights, values16, count, dim, out);
}

}  // namespace kvscope
