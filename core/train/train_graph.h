#pragma once
// The training graph of one sequence: a forward pass that keeps every activation the backward pass
// needs, and a hand-written backward pass for exactly these architectures (GPT-2: learned positions,
// pre-LayerNorm blocks, causal multi-head attention, tanh-GELU MLP, final LayerNorm; Llama
// (train_llama.cpp): RMSNorm, rotary positions on q and k, grouped-query or multi-head latent attention, SwiGLU; both with
// the output head tied to the token embedding and cross-entropy on the next token).
//
// Written as templates over the scalar: training runs in float; the gradient check in the tests
// runs the same code in double, so finite differences are precise enough to be a real check.
// The forward arithmetic is the same as core/model.cpp (the tests compare the logits), but the code is
// separate: the inference path stays short for students, and this one saves what backward reads.
#include <vector>

#include <Eigen/Core>

#include "core/train/train_layout.h"

namespace kvscope {

template <typename Scalar>
using MatrixT = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename Scalar>
using VectorT = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

// Saved activations of one block; T = sequence length, d = d_model, f = 4 d.
template <typename Scalar>
struct LayerActivations {
  MatrixT<Scalar> x_in;                    // [T, d] residual stream entering the block
  MatrixT<Scalar> ln_1_xhat;               // [T, d] (x - mean) * rstd, before gain and bias
  VectorT<Scalar> ln_1_rstd;               // [T] 1 / sqrt(var + eps)
  MatrixT<Scalar> ln_1_out;                // [T, d]
  MatrixT<Scalar> qkv;                     // [T, 3d] Q | K | V
  std::vector<MatrixT<Scalar>> attention;  // per head [T, T] softmax weights, zero above the diagonal
  MatrixT<Scalar> mixed;                   // [T, d] attention output, heads side by side
  MatrixT<Scalar> x_mid;                   // [T, d] residual after attention
  MatrixT<Scalar> ln_2_xhat;               // [T, d]
  VectorT<Scalar> ln_2_rstd;               // [T]
  MatrixT<Scalar> ln_2_out;                // [T, d]
  MatrixT<Scalar> fc;                      // [T, f] before GELU (Llama: the gate before SiLU)
  MatrixT<Scalar> gelu;                    // [T, f] after GELU (Llama: silu(gate) * up)
  // Llama only: separate Q, K (both after rotation), V; the SwiGLU up projection.
  MatrixT<Scalar> q, k, v;                 // [T, q_dim], [T, kv_dim], [T, kv_dim]
  MatrixT<Scalar> up;                      // [T, f]
  // MLA only: the latent rows K and V were rebuilt from (q, k, v above are then [T, q_dim] each).
  MatrixT<Scalar> latent;                  // [T, kv_lora_rank]
};

template <typename Scalar>
struct SequenceActivations {
  std::vector<int> inputs;  // [T] token ids, position t = index t
  std::vector<LayerActivations<Scalar>> layers;
  MatrixT<Scalar> x_out;      // [T, d] residual after the last block
  MatrixT<Scalar> ln_f_xhat;  // [T, d]
  VectorT<Scalar> ln_f_rstd;  // [T]
  MatrixT<Scalar> ln_f_out;   // [T, d]
  MatrixT<Scalar> logits;     // [T, vocab]
  MatrixT<Scalar> probs;      // [T, vocab] softmax of logits
};

// Forward over inputs (at most context_length ids); keeps activations in acts and returns the summed
// cross-entropy -sum_t log p(targets[t] | inputs[0..t]), accumulated in double. targets has one entry
// per input; -1 means no loss at that position. Throws DataError for ids outside the vocabulary.
template <typename Scalar>
double forward_sequence(const ParameterLayout& layout, const Scalar* params, const std::vector<int>& inputs,
                        const std::vector<int>& targets, SequenceActivations<Scalar>& acts);

// Adds loss_scale * d(summed loss)/d(params) into grads (same layout as params). acts and targets
// must be those of the forward_sequence call just made with the same params.
template <typename Scalar>
void backward_sequence(const ParameterLayout& layout, const Scalar* params, const SequenceActivations<Scalar>& acts,
                       const std::vector<int>& targets, Scalar loss_scale, Scalar* grads);

// The Llama family's forward and backward (train_llama.cpp); forward_sequence and backward_sequence
// call them for a Llama config.
template <typename Scalar>
double llama_forward_sequence(const ParameterLayout& layout, const Scalar* params, const std::vector<int>& inputs,
                              const std::vector<int>& targets, SequenceActivations<Scalar>& acts);
template <typename Scalar>
void llama_backward_sequence(const ParameterLayout& layout, const Scalar* params, const SequenceActivations<Scalar>& acts,
                             const std::vector<int>& targets, Scalar loss_scale, Scalar* grads);

// Row-wise softmax of logits into probs; returns -sum_t log probs(t, targets[t]) in double.
template <typename Scalar>
double softmax_cross_entropy(const MatrixT<Scalar>& logits, const std::vector<int>& targets, MatrixT<Scalar>& probs);
// dlogits = scale * (probs - onehot(target)); rows without a target: 0.
template <typename Scalar>
MatrixT<Scalar> cross_entropy_gradient(const MatrixT<Scalar>& probs, const std::vector<int>& targets, Scalar loss_scale);

// Views of a tensor in the flat buffer.
template <typename Scalar>
Eigen::Map<const MatrixT<Scalar>> view(const Scalar* buffer, std::int64_t offset, int rows, int cols) {
  return Eigen::Map<const MatrixT<Scalar>>(buffer + offset, rows, cols);
}
template <typename Scalar>
Eigen::Map<MatrixT<Scalar>> view(Scalar* buffer, std::int64_t offset, int rows, int cols) {
  return Eigen::Map<MatrixT<Scalar>>(buffer + offset, rows, cols);
}
template <typename Scalar>
Eigen::Map<const VectorT<Scalar>> view(const Scalar* buffer, std::int64_t offset, int n) {
  return Eigen::Map<const VectorT<Scalar>>(buffer + offset, n);
}
template <typename Scalar>
Eigen::Map<VectorT<Scalar>> view(Scalar* buffer, std::int64_t offset, int n) {
  return Eigen::Map<VectorT<Scalar>>(buffer + offset, n);
}

}  // namespace kvscope
