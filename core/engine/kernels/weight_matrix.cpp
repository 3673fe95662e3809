#include "core/engine/kernels/weight_matrix.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "core/engine/kernels/half_float.h"

namespace kvscope {

WeightMatrix WeightMatrix::from_bits(WeightDtype dtype, Eigen::Index rows, Eigen::Index cols,
                                     Bits bits) {
  assert(dtype != WeightDtype::F32 && std::int64_t(bits.size()) == std::int64_t(rows) * cols &&
         "16-bit values, one per element");
  WeightMatrix m;
  m.dtype_ = dtype;
  m.rows_ = rows;
  m.cols_ = cols;
  m.bits_ = std::move(bits);
  return m;
}

WeightView WeightMatrix::view() const {
  const void* data = dtype_ == WeightDtype::F32 ? static_cast<const void*>(values_.data()) : bits_.data();
  return {dtype_, data, rows(), cols()};
}

Matrix& WeightMatrix::f32() {
  assert(dtype_ == WeightDtype::F32 && "float access to a 16-bit weight: widen it first");
  return values_;
}

const Matrix& WeightMatrix::f32() const {
  assert(dtype_ == WeightDtype::F32 && "float access to a 16-bit weight: widen it first");
  return values_;
}

void widen_rows(const WeightView& w, Eigen::Index begin, Eigen::Index n, float* out) {
  const std::int64_t first = std::int64_t(begin) * w.cols, count = std::int64_t(n) * w.cols;
  if (w.dtype == WeightDtype::F32) {
    const float* values = static_cast<const float*>(w.data) + first;
    std::copy(values, values + count, out);
    return;
  }
  const std::uint16_t* bits = static_cast<const std::uint16_t*>(w.data) + first;
  for (std::int64_t i = 0; i < count; ++i)
    out[i] = w.dtype == WeightDtype::BF16 ? bfloat16_to_float(bits[i]) : half_to_float(bits[i]);
}

void WeightMatrix::widen_row(Eigen::Index r, float* out) const { widen_rows(view(), r, 1, out); }

RowVector WeightMatrix::row(Eigen::Index r) const {
  RowVector v(cols());
  widen_row(r, v.data());
  return v;
}

Matrix WeightMatrix::widened() const {
  if (dtype_ == WeightDtype::F32) return values_;
  Matrix m(rows_, cols_);
  widen_rows(view(), 0, rows_, m.data());
  return m;
}

WeightMatrix WeightMatrix::converted(WeightDtype dtype) const {
  if (dtype == WeightDtype::F32) return widened();
  const Matrix values = widened();
  Bits bits(std::size_t(values.size()));
  for (Eigen::Index i = 0; i < values.size(); ++i)
    bits[std::size_t(i)] = dtype == WeightDtype::BF16 ? float_to_bfloat16(values.data()[i]) : float_to_half(values.data()[i]);
  return from_bits(dtype, values.rows(), values.cols(), std::move(bits));
}

bool WeightMatrix::operator==(const WeightMatrix& other) const {
  if (dtype_ != other.dtype_ || rows() != other.rows() || cols() != other.cols()) return false;
  return dtype_ == WeightDtype::F32 ? values_ == other.values_ : bits_ == other.bits_;
}

}  // namespace kvscope
