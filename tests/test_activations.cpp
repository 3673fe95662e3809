// The MLP activations against their formulas in double, and a many-row call (split across the pool's
// threads) equal bit for bit to the same rows on one thread.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/engine/kernels/norms.h"
#include "core/engine/kernels/random.h"
#include "core/engine/kernels/thread_pool.h"

using namespace kvscope;

namespace {
Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, SplitMix64& rng) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = float(rng.uniform() * 16.0 - 8.0);
  return m;
}
}  // namespace

TEST_CASE("activations: SwiGLU and GELU equal their formulas, and many rows split across threads equal one thread's",
          "[kernels]") {
  SplitMix64 rng(21);
  for (Eigen::Index rows : {3, 200}) {  // below and above the rows from which the pool shares the work
    const Matrix gate = random_matrix(rows, 37, rng), up = random_matrix(rows, 37, rng);
    Matrix swiglu = gate, gelu = gate;
    swiglu_in_place(swiglu, up);
    gelu_in_place(gelu);
    for (Eigen::Index i = 0; i < gate.size(); ++i) {
      const double z = gate.data()[i], u = up.data()[i];
      INFO(rows << " rows, element " << i << ", z " << z);
      CHECK(swiglu.data()[i] == Approx(z / (1.0 + std::exp(-z)) * u).epsilon(1e-5).margin(1e-6));
      CHECK(gelu.data()[i] == Approx(0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z))))
                                  .epsilon(1e-5)
                                  .margin(1e-6));
    }
    // The same rows on one thread: each element's result does not depend on how the rows were split.
    const int threads = shared_pool().size();
    resize_shared_pool(1);
    Matrix swiglu_one = gate, gelu_one = gate;
    swiglu_in_place(swiglu_one, up);
    gelu_in_place(gelu_one);
    resize_shared_pool(threads);
    CHECK(swiglu_one == swiglu);
    CHECK(gelu_one == gelu);
  }
}
