#pragma once
// Eigen types used across core/. RowMajor so a row is a position (or an output unit of a weight).
#include <Eigen/Core>

namespace kvscope {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;
using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace kvscope
