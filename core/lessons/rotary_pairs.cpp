#include "core/lessons/rotary_pairs.h"

#include <algorithm>
#include <cmath>

#include "core/engine/model/rope.h"

namespace kvscope {

namespace {

constexpr double kPi = 3.14159265358979323846;

double wrapped(double angle) {  // into (-pi, pi]
  angle = std::fmod(angle, 2.0 * kPi);
  if (angle > kPi) angle -= 2.0 * kPi;
  if (angle <= -kPi) angle += 2.0 * kPi;
  return angle;
}

// The mode's row index of `position` in this layer's computed rows, or -1.
int computed_index(const ModeTrace& mode, int layer, int position) {
  if (!mode.ran || layer >= int(mode.forward.layers.size())) return -1;
  const LayerRecord& l = mode.forward.layers[std::size_t(layer)];
  const auto it = std::find(l.computed_rows.begin(), l.computed_rows.end(), position);
  if (it == l.computed_rows.end()) return -1;
  const int i = int(it - l.computed_rows.begin());
  return i < l.keys.rows() && i < l.keys_unrotated.rows() ? i : -1;
}

}  // namespace

RotaryRow rotary_row(const ModelConfig& config, const StepTrace& step, int layer, int kv_head, int position) {
  RotaryRow row;
  row.layer = layer;
  row.kv_head = kv_head;
  row.position = position;
  if (!config.rotary() || kv_head < 0 || kv_head >= config.kv_heads()) return row;
  const ModeTrace* mode = &step.uncached;
  int i = computed_index(step.uncached, layer, position);
  if (i < 0) {
    mode = &step.cached;
    i = computed_index(step.cached, layer, position);
  }
  if (i < 0) return row;
  const LayerRecord& l = mode->forward.layers[std::size_t(layer)];
  const std::vector<double> inv_freq = rope_inverse_frequencies(config, config.layer_local(layer));  // a local layer's own base
  const int d = config.d_head(), half = d / 2, off = kv_head * d;
  for (int j = 0; j < half; ++j) {
    RotaryPair p;
    p.before_x = l.keys_unrotated(i, off + j);
    p.before_y = l.keys_unrotated(i, off + j + half);
    p.after_x = l.keys(i, off + j);
    p.after_y = l.keys(i, off + j + half);
    const double cross = double(p.before_x) * p.after_y - double(p.before_y) * p.after_x;
    const double dot = double(p.before_x) * p.after_x + double(p.before_y) * p.after_y;
    p.turned = std::atan2(cross, dot);
    p.radians_per_position = inv_freq[std::size_t(j)];
    p.expected = wrapped(double(position) * inv_freq[std::size_t(j)]);
    row.pairs.push_back(p);
  }
  row.found = true;
  return row;
}

}  // namespace kvscope
