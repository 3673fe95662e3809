#pragma once
// Rotary position embedding in Hugging Face's rotate-half convention: within each head, dimension i
// pairs with i + d_head/2 and the pair is rotated by position * inv_freq[i]. Keys are cached after
// rotation, so a cached key already carries its position; q·k then depends on the distance only.
#include <vector>

#include "core/engine/model/config.h"

namespace kvscope {

// inv_freq[i] = theta^(-2i / dims) for i < dims/2 (dims: the rotated part of a head, rotary_dims()), with rope_scaling (Llama 3's or linear)
// applied when set. local: the local layers' base (rope_local_theta) and no scaling, as Gemma 3 has.
std::vector<double> rope_inverse_frequencies(const ModelConfig& config, bool local = false);

// Rotates every head of one row (n_heads x d_head floats, heads side by side) to `position`.
void apply_rope(float* row, int n_heads, int d_head, int position, const std::vector<double>& inv_freq);

// apply_rope in two halves, so a position's angles serve several rows (its query and its key):
// cos_a[i], sin_a[i] of position x inv_freq[i] for i < inv_freq.size(), then the rotation by them.
void rope_angles(int position, const std::vector<double>& inv_freq, float* cos_a, float* sin_a);
void rotate_heads(float* row, int n_heads, int d_head, const float* cos_a, const float* sin_a);

}  // namespace kvscope
