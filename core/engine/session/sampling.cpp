#include "core/engine/session/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/engine/kernels/random.h"
#include "core/engine/kernels/softmax.h"

namespace kvscope {

int argmax(const RowVector& logits) {
  Eigen::Index best = 0;
  logits.maxCoeff(&best);
  return int(best);
}

int sample_token(const RowVector& logits, const SamplingOptions& s, int step) {
  if (s.temperature == 0.0f) return argmax(logits);
  const int vocab = int(logits.size());
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  const int k = s.top_k > 0 ? std::min(s.top_k, vocab) : vocab;
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  std::vector<float> top(std::size_t(k), 0.0f);
  for (int i = 0; i < k; ++i) top[std::size_t(i)] = logits[order[i]];
  const std::vector<double> p = softmax_double(top.data(), k, s.temperature);
  SplitMix64 rng(s.seed * 0x9E3779B97F4A7C15ULL + std::uint64_t(step) + 1);
  double r = rng.uniform();
  for (int i = 0; i < k; ++i) {
    if ((r -= p[i]) < 0.0) return order[i];
  }
  return order[k - 1];
}

std::vector<TokenProbability> top_tokens(const RowVector& logits, int k, const Tokenizer& tokenizer) {
  const int vocab = int(logits.size());
  k = std::min(k, vocab);
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  const std::vector<double> p = softmax_double(logits);
  std::vector<TokenProbability> out;
  for (int i = 0; i < k; ++i) out.push_back({order[i], tokenizer.token_text(order[i]), float(p[std::size_t(order[i])])});
  return out;
}

}  // namespace kvscope
