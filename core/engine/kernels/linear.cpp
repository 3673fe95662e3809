#include "core/engine/kernels/linear.h"

#include <algorithm>
#include <cassert>

#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/thread_pool.h"

namespace kvscope {

namespace {
MatvecFn matvec_of(const KernelSet& k, WeightDtype dtype) {
  return dtype == WeightDtype::F16 ? k.matvec_f16 : dtype == WeightDtype::BF16 ? k.matvec_bf16 : k.matvec_f32;
}
MatmulFn matmul_of(const KernelSet& k, WeightDtype dtype) {
  return dtype == WeightDtype::F16 ? k.matmul_f16 : dtype == WeightDtype::BF16 ? k.matmul_bf16 : k.matmul_f32;
}

void linear_view(const Matrix& x, const WeightView& w, const Vector* bias, Matrix& y, bool row_by_row) {
  assert(x.cols() == w.cols && "x W^T needs as many input values as W has columns");
  y.resize(x.rows(), w.rows);
  const Eigen::Index n = x.rows(), n_out = w.rows;
  const float* b = bias ? bias->data() : nullptr;
  // Here, on the caller's thread, so a KVSCOPE_ISA error reaches the caller.
  const KernelSet& kernels = active_kernels();
  const MatvecFn matvec = matvec_of(kernels, w.dtype);
  const MatmulFn matmul = matmul_of(kernels, w.dtype);
  // Output units [begin, end) for every input row.
  auto rows = [&](Eigen::Index begin, Eigen::Index end) {
    if (n == 1)
      matvec(w.data, w.cols, x.data(), b, y.data(), begin, end);
    else if (row_by_row)
      for (Eigen::Index i = 0; i < n; ++i) matvec(w.data, w.cols, x.row(i).data(), b, y.row(i).data(), begin, end);
    else
      matmul(w.data, w.cols, x.data(), n, b, y.data(), n_out, begin, end);
  };
  // Small products (the demo model) are not worth waking other threads for.
  ThreadPool& pool = shared_pool();
  if (n * n_out * w.cols < (1 << 16) || pool.size() == 1) {
    rows(0, n_out);
    return;
  }
  // Threads split the output units in parts; a multiple of 16 units keeps parts of y apart by whole
  // lines. One row (a decode step's products, bound by memory) goes in about 64 parts taken by whichever
  // thread is free next, so a thread the VM slows down does not keep the other waiting at the end.
  const Eigen::Index target_parts = n == 1 ? 64 : pool.size();
  const Eigen::Index chunk = ((n_out + target_parts - 1) / target_parts + 15) / 16 * 16;
  pool.run_parts((n_out + chunk - 1) / chunk, [&](std::int64_t c) {
    const Eigen::Index begin = Eigen::Index(c) * chunk;
    rows(begin, std::min(n_out, begin + chunk));
  });
}
}  // namespace

void set_linear_threads(int n_threads) { resize_shared_pool(n_threads); }
int linear_threads() { return shared_pool().size(); }

void linear(const Matrix& x, const WeightMatrix& weight, const Vector* bias, Matrix& y, bool row_by_row) {
  linear_view(x, weight.view(), bias, y, row_by_row);
}

void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y) {
  linear_view(x, {WeightDtype::F32, weight.data(), weight.rows(), weight.cols()}, bias, y, false);
}

}  // namespace kvscope
