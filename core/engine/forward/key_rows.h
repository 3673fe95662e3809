#pragma once
// KeyRows: the K and V rows of a list of keys as attention reads them, by address (rows sit wherever the
// cache or the call keeps them): float32 rows, or the bits of a 16-bit cache (F16 / BF16), which the
// kernels widen in registers as they read. The attention loops call these two products and never look
// at the dtype themselves.
#include <cstdint>

#include "core/engine/kernels/matvec_kernels.h"
#include "core/engine/kernels/stored_dtype.h"

namespace kvscope {

struct KeyRows {
  WeightDtype dtype = WeightDtype::F32;
  const float* const* keys = nullptr;  // F32
  const float* const* values = nullptr;
  const std::uint16_t* const* keys16 = nullptr;  // F16 / BF16
  const std::uint16_t* const* values16 = nullptr;

  // The keys from index `begin` on.
  KeyRows from(std::int64_t begin) const;
  // out[j] = scale x (q . key j) for j < count.
  void scores(const KernelSet& kernels, const float* q, std::int64_t count, int dim, float scale, float* out) const;
  // out += sum_j weights[j] x value j for j < count.
  void weighted_sum(const KernelSet& kernels, const float* weights, std::int64_t count, int dim, float* out) const;
};

// The kernels of a 16-bit dtype (F16 or BF16).
const HalfRowKernels& half_row_kernels(const KernelSet& kernels, WeightDtype dtype);

}  // namespace kvscope
