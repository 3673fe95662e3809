#pragma once
// Choosing the next token from logits: greedy (argmax), temperature and top-k sampling, the top-k list.
#include <cstdint>
#include <vector>

#include "core/engine/kernels/tensor.h"
#include "core/engine/session/tokenizer.h"
#include "core/engine/session/trace.h"

namespace kvscope {

struct SamplingOptions {
  float temperature = 0.0f;  // 0: greedy
  int top_k = 0;             // 0: all tokens
  std::uint64_t seed = 0;
};

// The most likely token; the lowest id among equals.
int argmax(const RowVector& logits);

// A token drawn from softmax(logits / temperature) over the top_k most likely (greedy at temperature 0).
// One generator per step, derived from the seed: stepping back and forward draws the same token.
int sample_token(const RowVector& logits, const SamplingOptions& options, int step);

// The k most likely tokens under softmax(logits), most likely first.
std::vector<TokenProbability> top_tokens(const RowVector& logits, int k, const Tokenizer& tokenizer);

}  // namespace kvscope
