#pragma once
// The trainer's gradient check, shared by every family: each parameter's hand-written gradient against
// central finite differences of the loss, computed in double (h = 1e-5 leaves truncation and rounding
// errors near 1e-9), tensor by tensor.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/train/train.h"

namespace test {

inline void check_gradients_by_finite_differences(const kvscope::ParameterLayout& layout, std::vector<double> params,
                                                  const std::vector<kvscope::TrainExample>& examples) {
  std::vector<double> grads, scratch;
  kvscope::loss_and_gradient(layout, params, examples, grads);
  const double h = 1e-5;
  for (const kvscope::TensorSlot& slot : layout.tensors) {
    double worst = 0.0, largest = 0.0;
    for (std::int64_t i = slot.offset; i < slot.offset + slot.size(); ++i) {
      const double saved = params[i];
      params[i] = saved + h;
      const double up = kvscope::loss_and_gradient(layout, params, examples, scratch);
      params[i] = saved - h;
      const double down = kvscope::loss_and_gradient(layout, params, examples, scratch);
      params[i] = saved;
      const double numeric = (up - down) / (2 * h);
      // Relative to the entry, with a floor for entries whose gradient is zero (GPT-2's K bias is one:
      // softmax ignores a constant added to every score of a row).
      worst = std::max(worst, std::abs(numeric - grads[i]) / std::max(1e-3, std::abs(numeric)));
      largest = std::max(largest, std::abs(grads[i]));
    }
    INFO("tensor " << slot.name << ": worst relative error " << worst << ", largest |grad| " << largest);
    CHECK(worst < 1e-5);
    CHECK(largest > 1e-4);  // a pass that forgot the tensor would pass the first check with zeros
  }
}

}  // namespace test
