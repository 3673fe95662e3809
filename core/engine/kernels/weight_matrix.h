#pragma once
// WeightMatrix: a weight matrix [rows, cols] (row-major: a row is one output unit) held in the dtype
// its file stored it in. BF16 and F16 stay 16-bit, which halves the bytes a decode step streams and
// the memory of a loaded model; the kernels (matvec_kernels.h) widen them to float32 as they read,
// which is exact, so every product equals that of a widened copy. Random initialisation, the trainer
// and tests that edit weights work in F32, through f32().
#include <cstdint>
#include <vector>

#include "core/engine/kernels/stored_dtype.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {


// A read-only view of the values the kernels stream: rows of `cols` values, `data` in `dtype`.
struct WeightView {
  WeightDtype dtype = WeightDtype::F32;
  const void* data = nullptr;
  Eigen::Index rows = 0, cols = 0;
};

// out[0 .. n * cols): rows [begin, begin + n) of w as float32, exactly.
void widen_rows(const WeightView& w, Eigen::Index begin, Eigen::Index n, float* out);

class WeightMatrix {
 public:
  // 16-bit values on 64-byte boundaries, like Eigen's buffers (CMakeLists.txt: EIGEN_MAX_ALIGN_BYTES).
  using Bits = std::vector<std::uint16_t, Eigen::aligned_allocator<std::uint16_t>>;

  WeightMatrix() = default;
  WeightMatrix(Matrix values) : values_(std::move(values)) {}  // NOLINT: an F32 matrix is an F32 weight
  // 16-bit values, row-major, as safetensors stores F16 or BF16 (bits.size() == rows * cols).
  static WeightMatrix from_bits(WeightDtype dtype, Eigen::Index rows, Eigen::Index cols,
                                Bits bits);

  WeightDtype dtype() const { return dtype_; }
  Eigen::Index rows() const { return dtype_ == WeightDtype::F32 ? values_.rows() : rows_; }
  Eigen::Index cols() const { return dtype_ == WeightDtype::F32 ? values_.cols() : cols_; }
  Eigen::Index size() const { return rows() * cols(); }
  std::int64_t bytes() const { return std::int64_t(size()) * dtype_bytes(dtype_); }  // as held
  WeightView view() const;

  // F32 only (asserted): the values as an Eigen matrix.
  Matrix& f32();
  const Matrix& f32() const;
  float* data() { return f32().data(); }
  const float* data() const { return f32().data(); }
  // Eigen's spelling, so the tensor table's visitors treat vectors and matrices alike: F32 zeros, ones.
  void setZero(Eigen::Index rows, Eigen::Index cols) { *this = WeightMatrix(Matrix::Zero(rows, cols)); }
  void setOnes() { f32().setOnes(); }

  const std::uint16_t* bits() const { return bits_.data(); }  // 16-bit only: [rows * cols]

  void widen_row(Eigen::Index r, float* out) const;  // out[0 .. cols): row r as float32, exactly
  RowVector row(Eigen::Index r) const;               // the same, as a new vector
  Matrix widened() const;                            // every value as float32, exactly
  // In `dtype`: to F32 exactly; to F16 or BF16 the float32 values rounded to nearest, ties to even.
  WeightMatrix converted(WeightDtype dtype) const;

  bool operator==(const WeightMatrix& other) const;
  bool operator!=(const WeightMatrix& other) const { return !(*this == other); }

 private:
  WeightDtype dtype_ = WeightDtype::F32;
  Matrix values_;                     // [rows, cols] when F32
  Bits bits_;                         // [rows * cols] row-major when F16 or BF16
  Eigen::Index rows_ = 0, cols_ = 0;  // when F16 or BF16
};

}  // namespace kvscope
