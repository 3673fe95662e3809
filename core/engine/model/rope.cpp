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

void rope_angles(int position, const std::vector<double>& inv_freq, float* cos_a, float* sin_a) {
  for (std::size_t i = 0; i < inv_freq.size(); ++i) {
    const double angle = position * inv_freq[i];
    cos_a[i] = float(std::cos(angle));
    sin_a[i] = float(std::sin(angle));
  }
}

void rotate_heads(float* row, int n_heads, int d_head, const float* cos_a, const float* sin_a) {
  const int half = d_head / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* x = row + h * d_head;
    for (int i = 0; i < half; ++i) {
      const float a = x[i], b = x[i + half];
      x[i] = a * cos_a[i] - b * sin_a[i];
      x[i + half] = b * cos_a[i] + a * sin_a[i];
    }
  }
}

void apply_rope(float* row, int n_heads, int d_head, int position, const std::vector<double>& inv_freq) {
  std::vector<float> cos_a(inv_freq.size()), sin_a(inv_freq.size());
  rope_angles(position, inv_freq, cos_a.data(), sin_a.data());
  rotate_heads(row, n_heads, d_head, cos_a.data(), sin_a.data());
}

}  // namespace kvscope
