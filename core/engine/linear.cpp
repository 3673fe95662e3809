#include "core/engine/linear.h"

#include <algorithm>

#include "core/engine/isa.h"
#include "core/engine/thread_pool.h"

namespace kvscope {

namespace {
MatvecFn matvec_of(const KernelSet& kernels, WeightDtype dtype) {
  switch (dtype) {
    case WeightDtype::F16: return kernels.matvec_f16;
    case WeightDtype::BF16: return kernels.matvec_bf16;
    case WeightDtype::F32: break;
  }
  return kernels.matvec_f32;
}

// Output units widened per Eigen product: a 16-bit block of W stays a few hundred KB of floats.
constexpr Eigen::Index kWidenRows = 64;

// y[:, begin:end) = x W[begin:end)^T (+ b) for several input rows.
void product_block(const Matrix& x, const WeightView& w, const Vector* bias, Matrix& y, Eigen::Index begin,
                   Eigen::Index end) {
  if (begin >= end) return;
  if (w.dtype == WeightDtype::F32) {
    const Eigen::Map<const Matrix> rows(static_cast<const float*>(w.data) + begin * w.cols, end - begin, w.cols);
    y.middleCols(begin, end - begin).noalias() = x * rows.transpose();
  } else {
    thread_local Matrix widened;  // one per pool thread: reused from call to call
    widened.resize(kWidenRows, w.cols);
    for (Eigen::Index b = begin; b < end; b += kWidenRows) {
      const Eigen::Index n = std::min(kWidenRows, end - b);
      widen_rows(w, b, n, widened.data());
      y.middleCols(b, n).noalias() = x * widened.topRows(n).transpose();
    }
  }
  if (bias) y.middleCols(begin, end - begin).rowwise() += bias->segment(begin, end - begin).transpose();
}

void linear_view(const Matrix& x, const WeightView& w, const Vector* bias, Matrix& y) {
  y.resize(x.rows(), w.rows);
  const Eigen::Index n_out = w.rows;
  const float* b = bias ? bias->data() : nullptr;
  // Small products (the demo model) are not worth waking other threads for.
  const bool split = x.rows() * w.rows * w.cols >= (1 << 16) && shared_pool().size() > 1;
  ThreadPool& pool = shared_pool();
  if (x.rows() == 1) {
    const MatvecFn matvec = matvec_of(active_kernels(), w.dtype);  // here, so a KVSCOPE_ISA error reaches the caller
    if (!split) {
      matvec(w.data, w.cols, x.data(), b, y.data(), 0, n_out);
      return;
    }
    const Eigen::Index chunk = (n_out + pool.size() - 1) / pool.size();
    pool.run_chunks([&](int c) {
      const Eigen::Index begin = std::min(n_out, c * chunk);
      matvec(w.data, w.cols, x.data(), b, y.data(), begin, std::min(n_out, begin + chunk));
    });
    return;
  }
  // Several rows: each thread multiplies by its own block of output units with Eigen's
  // single-threaded matrix product.
  if (!split) {
    product_block(x, w, bias, y, 0, n_out);
    return;
  }
  const Eigen::Index chunk = ((n_out + pool.size() - 1) / pool.size() + 15) / 16 * 16;
  pool.run_chunks([&](int c) {
    const Eigen::Index begin = std::min(n_out, c * chunk);
    product_block(x, w, bias, y, begin, std::min(n_out, begin + chunk));
  });
}
}  // namespace

void set_linear_threads(int n_threads) { resize_shared_pool(n_threads); }
int linear_threads() { return shared_pool().size(); }

void linear(const Matrix& x, const WeightMatrix& weight, const Vector* bias, Matrix& y) {
  linear_view(x, weight.view(), bias, y);
}

void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y) {
  linear_view(x, {WeightDtype::F32, weight.data(), weight.rows(), weight.cols()}, bias, y);
}

}  // namespace kvscope
