#pragma once
// y = x W^T + b for W stored [out, in]. One row (cached decode) is a matrix-vector product that
// streams W once, split by output rows across threads; several rows use Eigen's matrix product.
#include "core/engine/tensor.h"

namespace kvscope {

void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y);

// Threads used by the one-row path (default: hardware concurrency, at most 8).
void set_linear_threads(int n_threads);
int linear_threads();

}  // namespace kvscope
