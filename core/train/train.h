#pragma once
// Trainer: teaches a small GPT-2-style model a word-level corpus, next-token cross-entropy, AdamW.
// Deterministic: the same sequences, options and seed give bit-identical weights on one machine,
// whatever the number of threads (the batch is cut into a fixed number of shards whose gradients are
// summed in a fixed order). Randomness (initial weights, batch order) comes from SplitMix64 only.
#include <cstdint>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/kernels/random.h"
#include "core/train/train_graph.h"
#include "core/train/train_layout.h"
#include "core/engine/model/weights.h"

namespace kvscope {

struct TrainOptions {
  int steps = 1000;
  int batch_size = 16;            // sequences per optimiser step
  float learning_rate = 3e-3f;    // peak, reached after warmup_steps
  int warmup_steps = 50;          // linear warm-up from 0
  float min_lr_fraction = 0.1f;   // cosine decay from the peak down to this fraction at the last step
  float weight_decay = 0.01f;     // decoupled (AdamW), matrices and embeddings only
  float beta1 = 0.9f, beta2 = 0.99f, adam_eps = 1e-8f;
  float grad_clip = 1.0f;         // largest global gradient norm; 0 = no clipping
  std::uint64_t seed = 1;         // initial weights and batch order
  int n_threads = 0;              // 0: hardware concurrency, at most kTrainShards
};

// Batches are split into this many shards, whatever the thread count, so sums do not depend on it.
constexpr int kTrainShards = 4;

// One training example: inputs[t] predicts targets[t] (the next token).
struct TrainExample {
  std::vector<int> inputs;   // [T], T <= context_length
  std::vector<int> targets;  // [T]
};

// Sequences of at least two tokens become examples; one longer than context_length + 1 is cut into
// consecutive windows of context_length + 1 tokens (each token after the first predicted once).
std::vector<TrainExample> make_examples(const std::vector<std::vector<int>>& sequences, int context_length);

class Trainer {
 public:
  // Starts from random_weights(config, options.seed). Throws UsageError for bad options or config,
  // DataError when no sequence has two tokens or an id is outside the vocabulary.
  Trainer(const ModelConfig& config, const std::vector<std::vector<int>>& sequences, TrainOptions options);

  // One AdamW step on the next batch; returns the batch's mean cross-entropy (nats per token),
  // measured before the update.
  double step();
  // Mean cross-entropy over every example, without changing anything.
  double mean_loss() const;
  // Learning rate of step s (0-based): warm-up, then cosine decay.
  double learning_rate(int s) const;

  int steps_done() const { return steps_done_; }
  const std::vector<TrainExample>& examples() const { return examples_; }
  const ParameterLayout& layout() const { return layout_; }
  const std::vector<float>& parameters() const { return params_; }
  ModelWeights weights() const { return unflatten(params_, layout_); }

 private:
  std::vector<int> next_batch();
  void accumulate_gradients(const std::vector<int>& batch, double& loss_sum, int& target_count);
  void adamw_update(double lr);

  ParameterLayout layout_;
  TrainOptions options_;
  std::vector<TrainExample> examples_;
  std::vector<float> params_, grads_, adam_m_, adam_v_;  // all [layout.size]
  std::vector<std::vector<float>> shard_grads_;           // [kTrainShards][layout.size]
  std::vector<int> order_;                                // example indices of the current epoch
  size_t order_pos_ = 0;
  SplitMix64 rng_;  // batch order
  int steps_done_ = 0;
};

// Summed loss and its gradient over examples, in Scalar precision (double for the gradient check).
// grads is resized to layout.size and overwritten.
template <typename Scalar>
double loss_and_gradient(const ParameterLayout& layout, const std::vector<Scalar>& params,
                         const std::vector<TrainExample>& examples, std::vector<Scalar>& grads);

}  // namespace kvscope
