#pragma once
// y = x W^T + b for W stored [out, in], streamed once in its stored dtype by the kernel set of this
// CPU (isa.h): one row (cached decode) is a matrix-vector product, several rows (prefill, uncached
// steps) a matrix-matrix product. Output rows are split across the shared thread pool.
// row_by_row: every row through the one-row kernel, so a row's result does not depend on how many rows
// came with it (the matrix-matrix kernel sums in another order: Numerics::same_order).
#include "core/engine/kernels/tensor.h"
#include "core/engine/kernels/weight_matrix.h"

namespace kvscope {

void linear(const Matrix& x, const WeightMatrix& weight, const Vector* bias, Matrix& y, bool row_by_row = false);
void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y);  // F32 weights

// Threads used by the one-row path (default: hardware concurrency, at most 8).
void set_linear_threads(int n_threads);
int linear_threads();

}  // namespace kvscope
