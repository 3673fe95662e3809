#pragma once
// Eigen types used across core/. RowMajor so a row is a position (or an output unit of a weight).
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace kvscope {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;
using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic, Eigen::RowMajor>;

// "[768, 2304]": a shape as error messages print it.
inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace kvscope
