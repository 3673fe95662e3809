#pragma once
// Numerics: how a Model computes, beside what it computes. compute: every operation's output
// (embeddings, norms, projections, rotary, scores, softmax, attention output, activations, residual
// adds, logits) rounded to F16 or BF16 as mixed-precision inference writes it, with float32
// accumulation inside each dot product; F32 rounds nothing. same_order: every matrix product runs
// row by row through the one-row (decode) kernel, so a row's result no longer depends on how many rows
// were computed with it: the uncached pass then sums in exactly the order the cached one does.
#include <string>

#include "core/engine/kernels/tensor.h"
#include "core/engine/kernels/weight_matrix.h"

namespace kvscope {

struct Numerics {
  WeightDtype compute = WeightDtype::F32;
  bool same_order = false;
  bool rounds() const { return compute != WeightDtype::F32; }
  bool operator==(const Numerics& o) const { return compute == o.compute && same_order == o.same_order; }
  bool operator!=(const Numerics& o) const { return !(*this == o); }
};

// "f32", "bf16", "f16" (also "float32", "bfloat16", "float16"); false for anything else.
bool parse_compute_dtype(const std::string& text, WeightDtype* out);
const char* compute_dtype_name(WeightDtype dtype);  // "f32", "bf16", "f16"
std::string compute_dtype_names();                  // "f32, bf16, f16"
// "f32", "bf16", "bf16, same order": how the window and the CLI name a Numerics.
std::string describe(const Numerics& numerics);
// A dtype, optionally followed by ",same-order" (or ", same order"): "bf16,same-order". False otherwise.
bool parse_numerics(const std::string& spec, Numerics* out);

// Every value of x rounded through numerics.compute (nothing for F32).
void round_values(const Numerics& numerics, float* values, Eigen::Index n);
inline void round_values(const Numerics& numerics, Matrix& x) { round_values(numerics, x.data(), x.size()); }

}  // namespace kvscope
