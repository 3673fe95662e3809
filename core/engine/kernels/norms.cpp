#include "core/engine/kernels/norms.h"

#include <cmath>

namespace kvscope {

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
  x = (0.5f * x.array() * (1.0f + (k * (x.array() + 0.044715f * x.array().cube())).tanh())).matrix();
}

void gelu_gate_in_place(Matrix& gate, const Matrix& up) {
  gelu_in_place(gate);
  gate = (gate.array() * up.array()).matrix();
}

void swiglu_in_place(Matrix& gate, const Matrix& up) {
  gate = (gate.array() / (1.0f + (-gate.array()).exp()) * up.array()).matrix();
}

}  // namespace kvscope
