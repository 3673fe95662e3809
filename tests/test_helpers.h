#pragma once
// Small models and tools shared by the core tests.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizers/id_tokenizer.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"
#include "core/engine/model/weights.h"

namespace test {

// AddressSanitizer's shadow memory and quarantine inflate peak memory: such checks only warn there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitizedBuild = true;
#else
constexpr bool kSanitizedBuild = false;
#endif
#else
constexpr bool kSanitizedBuild = false;
#endif

// Random weights scaled up so attention is far from uniform and logits are O(1): a mistake in
// masking or positions then changes the numbers clearly.
inline std::shared_ptr<kvscope::Model> spiky_model(const kvscope::ModelConfig& c, std::uint64_t seed, float scale = 12.0f) {
  kvscope::ModelWeights w = kvscope::random_weights(c, seed);
  w.token_embedding.f32() *= scale / 4;
  w.position_embedding.f32() *= scale;
  for (kvscope::LayerWeights& l : w.layers) {
    l.attn_qkv.f32() *= scale;
    l.attn_proj.f32() *= scale / 2;
    l.mlp_fc.f32() *= scale / 2;
    l.mlp_proj.f32() *= scale / 2;
  }
  return std::make_shared<kvscope::Model>(c, std::move(w));
}

inline kvscope::ModelConfig small_config(int vocab, int context, int d_model, int n_head, int n_layer) {
  kvscope::ModelConfig c;
  c.vocab_size = vocab;
  c.context_length = context;
  c.d_model = d_model;
  c.n_head = n_head;
  c.n_layer = n_layer;
  return c;
}

inline std::vector<int> random_ids(int n, int vocab, std::uint64_t seed) {
  kvscope::SplitMix64 rng(seed);
  std::vector<int> ids(n);
  for (int& id : ids) id = int(rng.next() % std::uint64_t(vocab));
  return ids;
}

inline std::vector<int> range(int begin, int end) {
  std::vector<int> r;
  for (int i = begin; i < end; ++i) r.push_back(i);
  return r;
}

}  // namespace test
