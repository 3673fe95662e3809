#include "core/engine/kernels/norms.h"

#include <cmath>

#include "core/engine/kernels/thread_pool.h"

namespace kvscope {

namespace {
// fn(first row, rows) over x's rows, split across the shared pool when there are many (a prefill's MLP
// activations: millions of exponentials). Each element's result does not depend on the split.
template <class Fn>
void by_rows(Eigen::Index rows, Fn fn) {
  ThreadPool& pool = shared_pool();
  const int threads = rows >= 64 ? pool.size() : 1;
  if (threads == 1) {
    fn(Eigen::Index(0), rows);
    return;
  }
  pool.run_chunks([&](int chunk) {
    const Eigen::Index begin = rows * chunk / threads, end = rows * (chunk + 1) / threads;
    fn(begin, end - begin);
  });
}
}  // namespace

void layer_norm(const Matrix& x, const Vector& gamma, const Vector& beta, float eps, Matrix& out) {
  out.resize(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float mean = x.row(r).mean();
    const float var = (x.row(r).array() - mean).square().mean();
    const float inv = 1.0f / std::sqrt(var + eps);
    out.row(r) = ((x.row(r).array() - mean) * inv * gamma.transpose().array() + beta.transpose().array()).matrix();
  }
}

void rms_norm_in_place(Matrix& x, const Vector& gain, float eps, int width, float gain_offset) {
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c + width <= x.cols(); c += width) {
      auto part = x.row(r).segment(c, width);
      const float inv = 1.0f / std::sqrt(part.squaredNorm() / float(width) + eps);
      part = (part.array() * inv * (gain.transpose().array() + gain_offset)).matrix();
    }
}

void gelu_in_place(Matrix& x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  by_rows(x.rows(), [&](Eigen::Index first, Eigen::Index n) {
    auto v = x.middleRows(first, n).array();
    v = 0.5f * v * (1.0f + (k * (v + 0.044715f * v.cube())).tanh());
  });
}

void gelu_gate_in_place(Matrix& gate, const Matrix& up) {
  gelu_in_place(gate);
  gate = (gate.array() * up.array()).matrix();
}

void swiglu_in_place(Matrix& gate, const Matrix& up) {
  by_rows(gate.rows(), [&](Eigen::Index first, Eigen::Index n) {
    auto g = gate.middleRows(first, n).array();
    g = g / (1.0f + (-g).exp()) * up.middleRows(first, n).array();
  });
}

}  // namespace kvscope
