#pragma once
// One cached K row before and after rotary positions, pair by pair (Hugging Face's rotate-half: dimension
// j pairs with j + d_head/2): both 2-D vectors as the trace recorded them, the angle the pair turned,
// measured from those vectors, and position × inv_freq[j], the angle the rotation was asked to make.
// The window's rotation view draws these; a test checks the two angles agree.
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/session/trace.h"

namespace kvscope {

struct RotaryPair {
  float before_x = 0, before_y = 0;  // (k[j], k[j + d_head/2]) before rotation
  float after_x = 0, after_y = 0;    // the same pair as cached
  double turned = 0.0;    // measured: the signed angle from before to after, in (-pi, pi]
  double expected = 0.0;  // position * inv_freq[j], wrapped to (-pi, pi]
  double radians_per_position = 0.0;  // inv_freq[j]
};

struct RotaryRow {
  bool found = false;  // false: not a rotary model, or no mode of this step computed that row
  int layer = 0, kv_head = 0, position = 0;
  std::vector<RotaryPair> pairs;  // d_head / 2, fastest first
};

// The row of `position` in `layer`, `kv_head`, from whichever mode computed it this step (the uncached
// mode computes every position; the cached mode only the newest).
RotaryRow rotary_row(const ModelConfig& config, const StepTrace& step, int layer, int kv_head, int position);

}  // namespace kvscope
