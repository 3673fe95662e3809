#include "core/linear.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace kvscope {

namespace {
int g_threads = std::max(1, std::min(8, int(std::thread::hardware_concurrency())));

// Rows [begin, end) of y = W x + b for one input row.
void matvec_rows(const Matrix& weight, const float* x, const float* bias, float* y, Eigen::Index begin,
                 Eigen::Index end) {
  const Eigen::Index n_in = weight.cols();
  Eigen::Map<const Vector> xv(x, n_in);
  for (Eigen::Index r = begin; r < end; ++r) {
    const float dot = weight.row(r).dot(xv.transpose());
    y[r] = bias ? dot + bias[r] : dot;
  }
}
}  // namespace

void set_linear_threads(int n_threads) { g_threads = std::max(1, n_threads); }
int linear_threads() { return g_threads; }

void linear(const Matrix& x, const Matrix& weight, const Vector* bias, Matrix& y) {
  y.resize(x.rows(), weight.rows());
  if (x.rows() == 1) {
    const Eigen::Index n_out = weight.rows();
    const float* b = bias ? bias->data() : nullptr;
    // Threads pay off only when the matrix is big enough to amortise starting them.
    const int n_threads = (weight.size() < (1 << 16)) ? 1 : g_threads;
    if (n_threads == 1) {
      matvec_rows(weight, x.data(), b, y.data(), 0, n_out);
      return;
    }
    std::vector<std::thread> workers;
    const Eigen::Index chunk = (n_out + n_threads - 1) / n_threads;
    for (int t = 1; t < n_threads; ++t) {
      const Eigen::Index begin = std::min(n_out, t * chunk), end = std::min(n_out, begin + chunk);
      workers.emplace_back(matvec_rows, std::cref(weight), x.data(), b, y.data(), begin, end);
    }
    matvec_rows(weight, x.data(), b, y.data(), 0, std::min(n_out, chunk));
    for (std::thread& w : workers) w.join();
    return;
  }
  y.noalias() = x * weight.transpose();
  if (bias) y.rowwise() += bias->transpose();
}

}  // namespace kvscope
