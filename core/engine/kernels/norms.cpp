#include "core/engine/kernels/norms.h"

#include <cmath>

#include "core/engine/kernels/thread_pool.h"

namespace kvscope {

namespace {
// A prefill's MLP activations are millions of exponentials: from this many rows on, every thread takes a share.
constexpr std::int64_t kSplitFromRows = 64;
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
  split_range(x.rows(), kSplitFromRows, [&](std::int64_t begin, std::int64_t end) {
    auto v = x.middleRows(begin, end - begin).array();
    v = 0.5f * v * (1.0f + (k * (v + 0.044715f * v.cube())).tanh());
  });
}

void gelu_gate_in_place(Matrix& gate, const Matrix& up) {
  gelu_in_place(gate);
  gate = (gate.array() * up.array()).matrix();
}

void swiglu_in_place(Matrix& gate, const Matrix& up) {
  split_range(gate.rows(), kSplitFromRows, [&](std::int64_t begin, std::int64_t end) {
    auto g = gate.middleRows(begin, end - begin).array();
    g = g / (1.0f + (-g).exp()) * up.middleRows(begin, end - begin).array();
  });
}

}  // namespace kvscope
