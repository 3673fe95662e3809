#pragma once
// Row-wise normalisations and activations shared by the model families (and the test references).
#include "core/engine/kernels/tensor.h"

namespace kvscope {

// GPT-2: (x - mean) / sqrt(var + eps) * gamma + beta, biased variance over the row.
void layer_norm(const Matrix& x, const Vector& gamma, const Vector& beta, float eps, Matrix& out);

// Llama: x / sqrt(mean(x^2) + eps) * gain, over each group of `width` columns (the whole row, or
// one head at a time for Qwen3's q/k norms). In place. gain_offset 1: Gemma's x / rms x (1 + w),
// its weights stored as w.
void rms_norm_in_place(Matrix& x, const Vector& gain, float eps, int width, float gain_offset = 0.0f);

// GPT-2's tanh approximation of GELU.
void gelu_in_place(Matrix& x);

// Gemma's gated GELU: gate = gelu_tanh(gate) * up (Hugging Face's gelu_pytorch_tanh).
void gelu_gate_in_place(Matrix& gate, const Matrix& up);

// SwiGLU: gate = silu(gate) * up, silu(z) = z / (1 + e^-z).
void swiglu_in_place(Matrix& gate, const Matrix& up);

}  // namespace kvscope
