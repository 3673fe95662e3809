#include "core/train/train.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/thread_pool.h"

namespace kvscope {

namespace {

void check_options(const TrainOptions& o) {
  auto fail = [](const std::string& what) { throw UsageError("invalid training option: " + what); };
  if (o.steps < 1) fail("steps must be at least 1, got " + std::to_string(o.steps));
  if (o.batch_size < 1) fail("batch size must be at least 1, got " + std::to_string(o.batch_size));
  if (!(o.learning_rate > 0.0f)) fail("learning rate must be positive");
  if (o.warmup_steps < 0) fail("warm-up steps must not be negative");
  if (!(o.min_lr_fraction >= 0.0f && o.min_lr_fraction <= 1.0f)) fail("min_lr_fraction must be in [0, 1]");
  if (!(o.weight_decay >= 0.0f)) fail("weight decay must not be negative");
  if (!(o.beta1 >= 0.0f && o.beta1 < 1.0f && o.beta2 >= 0.0f && o.beta2 < 1.0f)) fail("Adam betas must be in [0, 1)");
  if (!(o.adam_eps > 0.0f)) fail("Adam epsilon must be positive");
  if (!(o.grad_clip >= 0.0f)) fail("gradient clip must not be negative");
}

// Runs fn(0) .. fn(kTrainShards - 1) on worker threads, each shard on exactly one thread. Workers
// limit Eigen to one thread for themselves (their own OpenMP setting): the products here are too
// small to split, and the workers already fill the cores.
void for_each_shard(int n_threads, const std::function<void(int)>& fn) {
  if (n_threads <= 0) n_threads = hardware_threads();
  n_threads = std::max(1, std::min(kTrainShards, n_threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < n_threads; ++t)
    workers.emplace_back([&fn, t, n_threads] {
#ifdef _OPENMP
      omp_set_num_threads(1);
#endif
      for (int k = t; k < kTrainShards; k += n_threads) fn(k);
    });
  for (std::thread& w : workers) w.join();
}

}  // namespace

std::vector<TrainExample> make_examples(const std::vector<std::vector<int>>& sequences, int context_length) {
  std::vector<TrainExample> examples;
  for (const std::vector<int>& seq : sequences) {
    // Windows of up to context_length + 1 tokens: context_length inputs, each with its next token.
    for (size_t begin = 0; begin + 1 < seq.size(); begin += size_t(context_length)) {
      const size_t end = std::min(seq.size(), begin + size_t(context_length) + 1);
      TrainExample e;
      e.inputs.assign(seq.begin() + begin, seq.begin() + end - 1);
      e.targets.assign(seq.begin() + begin + 1, seq.begin() + end);
      examples.push_back(std::move(e));
    }
  }
  return examples;
}

Trainer::Trainer(const ModelConfig& config, const std::vector<std::vector<int>>& sequences, TrainOptions options)
    : layout_(make_layout(config)), options_(options), rng_(options.seed ^ 0x5EEDBA7C4ULL) {
  check_options(options_);
  examples_ = make_examples(sequences, config.context_length);
  if (examples_.empty()) throw DataError("nothing to train on: no sequence has two or more tokens");
  for (const TrainExample& e : examples_)
    for (const std::vector<int>* ids : {&e.inputs, &e.targets})
      for (int id : *ids)
        if (id < 0 || id >= config.vocab_size)
          throw DataError("token id " + std::to_string(id) + " is outside the vocabulary of " +
                          std::to_string(config.vocab_size));
  params_ = flatten(random_weights(config, options_.seed), layout_);
  grads_.assign(params_.size(), 0.0f);
  adam_m_.assign(params_.size(), 0.0f);
  adam_v_.assign(params_.size(), 0.0f);
  shard_grads_.assign(kTrainShards, std::vector<float>(params_.size(), 0.0f));
}

double Trainer::learning_rate(int s) const {
  const double peak = options_.learning_rate;
  if (s < options_.warmup_steps) return peak * double(s + 1) / double(options_.warmup_steps);
  const int decay_steps = std::max(1, options_.steps - options_.warmup_steps - 1);
  const double progress = std::min(1.0, double(s - options_.warmup_steps) / decay_steps);
  const double low = peak * options_.min_lr_fraction;
  return low + 0.5 * (peak - low) * (1.0 + std::cos(3.141592653589793 * progress));
}

// Examples are visited in epochs, each a fresh Fisher-Yates shuffle, so every sentence is seen
// equally often.
std::vector<int> Trainer::next_batch() {
  std::vector<int> batch;
  while (int(batch.size()) < options_.batch_size) {
    if (order_pos_ == order_.size()) {
      order_.resize(examples_.size());
      for (size_t i = 0; i < order_.size(); ++i) order_[i] = int(i);
      for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.next() % i]);
      order_pos_ = 0;
    }
    batch.push_back(order_[order_pos_++]);
  }
  return batch;
}

// The batch's gradient of the mean token loss into grads_. Shard k gets a fixed slice of the batch and
// its own buffer; threads take whole shards, and the shards are summed in order 0, 1, 2, ...
void Trainer::accumulate_gradients(const std::vector<int>& batch, double& loss_sum, int& target_count) {
  target_count = 0;
  for (int i : batch) target_count += int(examples_[i].targets.size());
  const float loss_scale = 1.0f / float(target_count);
  double shard_loss[kTrainShards] = {};

  auto run_shard = [&](int k) {
    std::vector<float>& g = shard_grads_[k];
    std::fill(g.begin(), g.end(), 0.0f);
    SequenceActivations<float> acts;
    const size_t begin = batch.size() * k / kTrainShards, end = batch.size() * (k + 1) / kTrainShards;
    for (size_t b = begin; b < end; ++b) {
      const TrainExample& e = examples_[batch[b]];
      shard_loss[k] += forward_sequence(layout_, params_.data(), e.inputs, e.targets, acts);
      backward_sequence(layout_, params_.data(), acts, e.targets, loss_scale, g.data());
    }
  };
  for_each_shard(options_.n_threads, run_shard);

  loss_sum = 0.0;
  std::fill(grads_.begin(), grads_.end(), 0.0f);
  for (int k = 0; k < kTrainShards; ++k) {
    loss_sum += shard_loss[k];
    for (size_t i = 0; i < grads_.size(); ++i) grads_[i] += shard_grads_[k][i];
  }
}

// AdamW (Loshchilov & Hutter): Adam on the gradient, weight decay applied to the weights directly.
void Trainer::adamw_update(double lr) {
  const int t = steps_done_ + 1;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double correction_1 = 1.0 - std::pow(b1, t), correction_2 = 1.0 - std::pow(b2, t);
  for (const TensorSlot& slot : layout_.tensors) {
    const float decay = slot.decay ? float(1.0 - lr * options_.weight_decay) : 1.0f;
    for (std::int64_t i = slot.offset; i < slot.offset + slot.size(); ++i) {
      const float g = grads_[i];
      adam_m_[i] = float(b1) * adam_m_[i] + float(1.0 - b1) * g;
      adam_v_[i] = float(b2) * adam_v_[i] + float(1.0 - b2) * g * g;
      const float m_hat = float(adam_m_[i] / correction_1), v_hat = float(adam_v_[i] / correction_2);
      params_[i] = params_[i] * decay - float(lr) * m_hat / (std::sqrt(v_hat) + options_.adam_eps);
    }
  }
}

double Trainer::step() {
  double loss_sum = 0.0;
  int target_count = 0;
  accumulate_gradients(next_batch(), loss_sum, target_count);
  if (options_.grad_clip > 0.0f) {
    double norm = 0.0;
    for (float g : grads_) norm += double(g) * g;
    norm = std::sqrt(norm);
    if (norm > options_.grad_clip) {
      const float shrink = float(options_.grad_clip / norm);
      for (float& g : grads_) g *= shrink;
    }
  }
  adamw_update(learning_rate(steps_done_));
  ++steps_done_;
  return loss_sum / target_count;
}

double Trainer::mean_loss() const {
  double shard_loss[kTrainShards] = {};
  for_each_shard(options_.n_threads, [&](int k) {
    SequenceActivations<float> acts;
    for (size_t i = examples_.size() * k / kTrainShards; i < examples_.size() * (k + 1) / kTrainShards; ++i)
      shard_loss[k] += forward_sequence(layout_, params_.data(), examples_[i].inputs, examples_[i].targets, acts);
  });
  double loss = 0.0;
  std::int64_t count = 0;
  for (int k = 0; k < kTrainShards; ++k) loss += shard_loss[k];
  for (const TrainExample& e : examples_) count += std::int64_t(e.targets.size());
  return loss / double(count);
}

template <typename Scalar>
double loss_and_gradient(const ParameterLayout& layout, const std::vector<Scalar>& params,
                         const std::vector<TrainExample>& examples, std::vector<Scalar>& grads) {
  grads.assign(size_t(layout.size), Scalar(0));
  SequenceActivations<Scalar> acts;
  double loss = 0.0;
  for (const TrainExample& e : examples) {
    loss += forward_sequence(layout, params.data(), e.inputs, e.targets, acts);
    backward_sequence(layout, params.data(), acts, e.targets, Scalar(1), grads.data());
  }
  return loss;
}

template double loss_and_gradient<float>(const ParameterLayout&, const std::vector<float>&,
                                         const std::vector<TrainExample>&, std::vector<float>&);
template double loss_and_gradient<double>(const ParameterLayout&, const std::vector<double>&,
                                          const std::vector<TrainExample>&, std::vector<double>&);

}  // namespace kvscope
