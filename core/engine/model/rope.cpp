#include "core/engine/model/rope.h"

#include <cmath>

namespace kvscope {

std::vector<double> rope_inverse_frequencies(const ModelConfig& c, bool local) {
  const int dims = c.rotary_dims(), half = dims / 2;
  std::vector<double> inv(half);
  const double theta = local ? c.rope_local_theta : c.rope_theta;
  for (int i = 0; i < half; ++i) inv[i] = 1.0 / std::pow(theta, 2.0 * i / dims);
  const RopeScaling& s = c.rope_scaling;
  if (local || s.factor <= 0.0f) return inv;
  if (s.linear) {  // positions / factor, i.e. every frequency / factor
    for (double& f : inv) f /= s.factor;
    return inv;
  }
  // Llama 3: wavelengths longer than original_context / low_freq_factor are slowed by factor, those
  // shorter than original_context / high_freq_factor kept, and the band between blended smoothly.
  const double low_wavelen = s.original_context / double(s.low_freq_factor);
  const double high_wavelen = s.original_context / double(s.high_freq_factor);
  for (double& f : inv) {
    const double wavelen = 2.0 * M_PI / f;
    if (wavelen < high_wavelen) continue;
    if (wavelen > low_wavelen) {
      f /= s.factor;
      continue;
    }
    const double smooth = (s.original_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    f = (1.0 - smooth) * f / s.factor + smooth * f;
  }
  return inv;
}

void apply_rope(float* row, int n_heads, int d_head, int position, const std::vector<double>& inv_freq) {
  const int half = d_head / 2;
  for (int i = 0; i < half; ++i) {
    const double angle = position * inv_freq[i];
    const float cos_a = float(std::cos(angle)), sin_a = float(std::sin(angle));
    for (int h = 0; h < n_heads; ++h) {
      float* x = row + h * d_head;
      const float a = x[i], b = x[i + half];
      x[i] = a * cos_a - b * sin_a;
      x[i + half] = b * cos_a + a * sin_a;
    }
  }
}

}  // namespace kvscope
