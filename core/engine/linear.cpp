#include "core/engine/linear.h"

#include <algorithm>
#include <memory>
#include <thread>

#include "core/engine/thread_pool.h"

namespace kvscope {

namespace {
// Rows [begin, end) of y = W x + b for one input row.
void matvec_rows(const Matrix& weight, const float* x, const float* bias, float* y, Eigen::Index begin,
                 Eigen::Index end) {
  Eigen::Map<const RowVector> xv(x, weight.cols());
  for (Eigen::Index r = begin; r < end; ++r) {
    const float dot = weight.row(r).dot(xv);
    y[r] = bias ? dot + bias[r] : dot;
  }
}
}  // namespace

void set_linear_threads(int n_threads) { resize_shared_pool(n_threads); }
int linear_threads() { return shared_pool().size(); }

void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y) {
  y.resize(x.rows(), weight.rows());
  const Eigen::Index n_out = weight.rows();
  const float* b = bias ? bias->data() : nullptr;
  // Small products (the demo model) are not worth waking other threads for.
  const bool split = x.rows() * weight.size() >= (1 << 16) && shared_pool().size() > 1;
  if (x.rows() == 1) {
    if (!split) {
      matvec_rows(weight, x.data(), b, y.data(), 0, n_out);
      return;
    }
    ThreadPool& pool = shared_pool();
    const Eigen::Index chunk = (n_out + pool.size() - 1) / pool.size();
    pool.run_chunks([&](int c) {
      const Eigen::Index begin = std::min(n_out, c * chunk);
      matvec_rows(weight, x.data(), b, y.data(), begin, std::min(n_out, begin + chunk));
    });
    return;
  }
  // Several rows (prefill, uncached steps): each thread multiplies by its own block of output
  // units with Eigen's single-threaded matrix product.
  auto block = [&](Eigen::Index begin, Eigen::Index end) {
    if (begin >= end) return;
    y.middleCols(begin, end - begin).noalias() = x * weight.middleRows(begin, end - begin).transpose();
    if (bias) y.middleCols(begin, end - begin).rowwise() += bias->segment(begin, end - begin).transpose();
  };
  if (!split) {
    block(0, n_out);
    return;
  }
  ThreadPool& pool = shared_pool();
  const Eigen::Index chunk = ((n_out + pool.size() - 1) / pool.size() + 15) / 16 * 16;
  pool.run_chunks([&](int c) {
    const Eigen::Index begin = std::min(n_out, c * chunk);
    block(begin, std::min(n_out, begin + chunk));
  });
}

}  // namespace kvscope
