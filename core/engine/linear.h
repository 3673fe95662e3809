#pragma once
// y = x W^T + b for W stored [out, in]. One row (cached decode) is a matrix-vector product that
// streams W once in its stored dtype, split by output rows across threads, with the kernel set of
// this CPU (isa.h). Several rows (prefill, uncached steps) use Eigen's matrix product, 16-bit
// weights widened a block of rows at a time.
#include "core/engine/tensor.h"
#include "core/engine/weight_matrix.h"

namespace kvscope {

void linear(const Matrix& x, const WeightMatrix& weight, const Vector* bias, Matrix& y);
void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y);  // F32 weights

// Threads used by the one-row path (default: hardware concurrency, at most 8).
void set_linear_threads(int n_threads);
int linear_threads();

}  // namespace kvscope
