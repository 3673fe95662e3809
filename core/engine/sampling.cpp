#include "core/engine/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/engine/random.h"

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
  std::vector<double> p(k);
  double sum = 0.0;
  for (int i = 0; i < k; ++i) sum += (p[i] = std::exp(double(logits[order[i]] - logits[order[0]]) / s.temperature));
  SplitMix64 rng(s.seed * 0x9E3779B97F4A7C15ULL + std::uint64_t(step) + 1);
  double r = rng.uniform() * sum;
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
  const float max_logit = logits[order[0]];
  double sum = 0.0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(double(logits[i] - max_logit));
  std::vector<TokenProbability> out;
  for (int i = 0; i < k; ++i)
    out.push_back({order[i], tokenizer.token_text(order[i]), float(std::exp(double(logits[order[i]] - max_logit)) / sum)});
  return out;
}

}  // namespace kvscope
