// Multi-head latent attention in the engine: cached == uncached at every step, an independent double
// precision reference that expands K and V per head by hand, the cache's bytes against the closed
// form, the trace's latent and rebuilt rows and the rebuild's multiply-adds, and the caches that hold
// K/V rows refusing an MLA model.
#include <catch2/catch.hpp>

#include <memory>

#include "core/engine/session/batch_session.h"
#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/error.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"
#include "core/engine/session/session.h"
#include "core/tokenizers/id_tokenizer.h"
#include "mla_reference.h"
#include "test_helpers.h"

using namespace kvscope;

namespace {

ModelConfig mla_config() {
  ModelConfig c;
  c.family = ModelFamily::Llama;
  c.vocab_size = 23, c.context_length = 24, c.d_model = 24, c.n_head = 3, c.head_dim = 10, c.n_layer = 2;
  c.ff_dim = 20;
  c.kv_lora_rank = 6, c.qk_rope_dim = 4;  // cached: 6 + 4 floats per layer; MHA would cache 2 x 3 x 10
  c.qkv_bias = c.out_bias = c.mlp_bias = false;
  c.layer_norm_eps = 1e-6f;
  c.rope_theta = 100.0f;  // fast rotation: short sequences already turn the pairs a lot
  c.tied_head = true;
  return c;
}

// Random weights large enough that attention is far from uniform and gains away from one.
ModelWeights busy_mla_weights(const ModelConfig& c, std::uint64_t seed) {
  ModelWeights w = random_weights(c, seed);
  SplitMix64 rng(seed + 9);
  auto fill = [&rng](auto& t, float base, float spread) {
    for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = base + spread * rng.normal();
  };
  for (LayerWeights& l : w.layers) {
    fill(l.attn_q, 0.0f, 0.5f);
    fill(l.attn_kv_down, 0.0f, 0.5f);
    fill(l.attn_k_rope, 0.0f, 0.5f);
    fill(l.attn_k_up, 0.0f, 0.5f);
    fill(l.attn_v_up, 0.0f, 0.5f);
    fill(l.ln_1_gamma, 1.0f, 0.3f);
  }
  w.token_embedding.f32() *= 20.0f;
  return w;
}

std::shared_ptr<DecodeSession> mla_session(const ModelConfig& c, const ModelWeights& w, int window = 0) {
  SessionOptions o;
  o.window = window;
  return std::make_shared<DecodeSession>(std::make_shared<Model>(c, w), std::make_shared<IdTokenizer>(c.vocab_size), o);
}

}  // namespace

TEST_CASE("MLA: the cached way (latent rows read back) gives the uncached logits at every step", "[mla]") {
  const ModelConfig c = mla_config();
  const ModelWeights w = busy_mla_weights(c, 4);
  for (int window : {0, 5}) {
    INFO("window " << window);
    auto session = mla_session(c, w, window);
    session->start(test::random_ids(4, c.vocab_size, 2), test::random_ids(14, c.vocab_size, 3));
    float largest_logit = 0.0f;
    for (int s = 0; s < 14; ++s) {
      const StepTrace& t = session->step();
      INFO("step " << s);
      REQUIRE(t.both_ran());
      CHECK(t.max_abs_logit_diff < 2e-5f);
      largest_logit = std::max(largest_logit, t.cached.logits.cwiseAbs().maxCoeff());
    }
    CHECK(largest_logit > 1.0f);  // the logits are not all near zero: the check above means something
  }
}

TEST_CASE("MLA: the engine agrees with an independent double-precision reference that expands K and V per head", "[mla]") {
  const ModelConfig c = mla_config();
  const ModelWeights w = busy_mla_weights(c, 6);
  const Model model(c, w);
  const std::vector<int> ids = test::random_ids(12, c.vocab_size, 8);
  KvCache cache(c, 0);
  double spread = 0.0;
  for (std::size_t t = 0; t < ids.size(); ++t) {
    INFO("position " << t);
    const std::vector<int> prefix(ids.begin(), ids.begin() + std::ptrdiff_t(t) + 1);
    const std::vector<double> want = mla_ref::logits(c, w, prefix);
    RowVector cached, uncached;
    model.forward_cached({ids[t]}, cache, 0, cached, nullptr);
    model.forward_uncached(prefix, 0, uncached, nullptr);
    for (Eigen::Index i = 0; i < c.vocab_size; ++i) {
      CHECK_THAT(double(cached[i]), Catch::Matchers::WithinAbs(want[std::size_t(i)], 2e-4));
      CHECK_THAT(double(uncached[i]), Catch::Matchers::WithinAbs(want[std::size_t(i)], 2e-4));
      spread = std::max(spread, std::abs(want[std::size_t(i)]));
    }
  }
  CHECK(spread > 1.0);
}

TEST_CASE("MLA: the cache holds layers x (latent + rotated key) floats per position, no K or V rows", "[mla]") {
  const ModelConfig c = mla_config();
  CHECK(std::string(c.attention_kind()) == "mla");
  CHECK(c.kv_bytes_per_position() == 2LL * (6 + 4) * 4);  // layers x (kv_lora_rank + qk_rope_dim) x 4 B
  CHECK(c.kv_bytes_per_position() * 3 < 2LL * c.n_layer * c.n_head * c.d_head() * 4);  // under a third of MHA's
  auto session = mla_session(c, busy_mla_weights(c, 1));
  session->start({1, 2, 3}, {4, 5, 6, 7});
  std::int64_t before = 0;
  for (int s = 0; s < 4; ++s) {
    const StepTrace& t = session->step();
    CHECK(t.cached.cache_bytes == c.kv_bytes_held(t.position_end));
    CHECK(t.cached.cache_bytes - before == c.kv_bytes_per_position() * (t.position_end - t.position_begin));
    before = t.cached.cache_bytes;
  }
  CHECK(session->cache().row_dim() == 10);
  CHECK(session->cache().value_dim() == 0);
  CHECK(session->cache().bytes_allocated() >= session->cache().bytes_held());
}

TEST_CASE("MLA: the trace names the cached latent rows, the K/V rebuilt from them and the rebuild's multiply-adds", "[mla]") {
  const ModelConfig c = mla_config();
  const ModelWeights w = busy_mla_weights(c, 2);
  auto session = mla_session(c, w, 4);  // a window: only held rows inside it are rebuilt
  session->start({3, 1, 4, 1, 5}, {9, 2, 6});
  session->step();
  session->step();
  const StepTrace& t = session->step();  // decode at position 6: holds 3..6 after the step
  const LayerRecord& l = t.cached.forward.layers[1];
  const std::int64_t r = c.kv_lora_rank, nope = c.qk_nope_dim(), q_dim = c.q_dim();
  CHECK(l.rebuilt_rows == std::vector<int>({3, 4, 5, 6}));  // read by the query at 6 with a window of 4
  CHECK(l.held_rows == std::vector<int>({3, 4, 5, 6}));
  CHECK(l.macs.rebuild == 4 * r * (c.n_head * nope + q_dim));
  CHECK(l.macs.qkv == c.d_model * (q_dim + r + c.qk_rope_dim));
  REQUIRE(l.latent_rows.rows() == 1);
  CHECK(l.latent_rows.cols() == r + c.qk_rope_dim);
  // The latent row written is what the cache holds for position 6.
  for (int i = 0; i < r + c.qk_rope_dim; ++i) CHECK(l.latent_rows(0, i) == session->cache().key_row(1, 6)[i]);
  // The rebuilt rows: K's first nope dims of head h are latent x W_uk_h^T; the newest equals `keys`.
  REQUIRE(l.rebuilt_keys.rows() == 4);
  REQUIRE(l.rebuilt_values.rows() == 4);
  const RowVector c3 = Eigen::Map<const RowVector>(session->cache().key_row(1, 3), r);
  const RowVector k3 = c3 * w.layers[1].attn_k_up.f32().transpose();
  const RowVector v3 = c3 * w.layers[1].attn_v_up.f32().transpose();
  for (int h = 0; h < c.n_head; ++h)
    for (int j = 0; j < nope; ++j) CHECK_THAT(double(l.rebuilt_keys(0, h * c.d_head() + j)), Catch::Matchers::WithinAbs(k3[h * nope + j], 1e-5));
  for (int j = 0; j < q_dim; ++j) CHECK_THAT(double(l.rebuilt_values(0, j)), Catch::Matchers::WithinAbs(v3[j], 1e-5));
  CHECK(l.rebuilt_keys.row(3) == l.keys.row(0));
  // The uncached way rebuilds every position from latents it has just computed (its rows 0..6 all query).
  CHECK(t.uncached.forward.layers[1].rebuilt_rows == test::range(0, 7));
  CHECK(t.uncached.forward.layers[1].computed_rows.size() == 7u);
  // Ledger: the total counts the rebuild.
  CHECK(l.macs.total() == l.macs.qkv + l.macs.rebuild + l.macs.scores + l.macs.weighted_values + l.macs.out_proj + l.macs.mlp);
}

TEST_CASE("MLA: a step back and forth reproduces the trace (latent rows a window overwrote restored)", "[mla]") {
  const ModelConfig c = mla_config();
  auto session = mla_session(c, busy_mla_weights(c, 3), 3);
  session->start({1, 2, 3, 4}, {5, 6, 7, 8});
  for (int s = 0; s < 3; ++s) session->step();
  const RowVector before = session->history().back().cached.logits;
  REQUIRE(session->back());
  const StepTrace& again = session->step();
  CHECK(again.cached.logits == before);
}

TEST_CASE("MLA: caches that hold K/V rows refuse an MLA model in one line", "[mla]") {
  const ModelConfig c = mla_config();
  auto model = std::make_shared<Model>(c, busy_mla_weights(c, 1));
  SessionOptions o;
  o.kv_policy = parse_kv_policy("window:4");
  try {
    DecodeSession(model, std::make_shared<IdTokenizer>(c.vocab_size), o);
    FAIL("a cache policy was accepted");
  } catch (const UsageError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("MLA"));
  }
  CHECK_THROWS_AS(BatchSession(model, BatchOptions{}), UsageError);
}

TEST_CASE("MLA: invalid shapes are refused naming the field", "[mla]") {
  auto message = [](ModelConfig c) {
    try {
      validate(c);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ModelConfig c = mla_config();
  c.qk_rope_dim = 3;
  CHECK_THAT(message(c), Catch::Contains("qk_rope_head_dim must be even"));
  c.qk_rope_dim = 10;  // the whole head: nothing left to rebuild from the latent
  CHECK_THAT(message(c), Catch::Contains("qk_rope_head_dim"));
  c = mla_config();
  c.n_kv_head = 1;
  CHECK_THAT(message(c), Catch::Contains("num_key_value_heads"));
  c = mla_config();
  c.kv_lora_rank = -2;
  CHECK_THAT(message(c), Catch::Contains("kv_lora_rank"));
  c = mla_config();
  c.kv_lora_rank = 0;
  CHECK_THAT(message(c), Catch::Contains("without kv_lora_rank"));
  c = mla_config();
  c.family = ModelFamily::Gemma3;
  CHECK_THAT(message(c), Catch::Contains("not defined for gemma3"));
  CHECK(message(mla_config()).empty());
}

TEST_CASE("MLA: old steps drop the rebuilt K/V (temporaries) but keep the cached latent rows; full_step brings them back", "[mla]") {
  const ModelConfig c = mla_config();
  SessionOptions o;
  o.full_steps_kept = 1;
  DecodeSession session(std::make_shared<Model>(c, busy_mla_weights(c, 5)), std::make_shared<IdTokenizer>(c.vocab_size), o);
  session.start({1, 2, 3}, {4, 5, 6});
  for (int s = 0; s < 3; ++s) session.step();
  const StepTrace& old = session.history()[1];
  REQUIRE(old.tensors_dropped);
  const LayerRecord& slim = old.cached.forward.layers[0];
  CHECK(slim.latent_rows.rows() == 1);  // what the cache holds stays
  CHECK(slim.rebuilt_keys.size() == 0);
  CHECK(slim.rebuilt_values.size() == 0);
  CHECK(slim.rebuilt_rows == test::range(0, 4));  // the positions stay: small
  CHECK(old.uncached.forward.layers[0].latent_rows.size() == 0);
  const StepTrace& full = session.full_step(1);
  CHECK(full.cached.forward.layers[0].rebuilt_keys.rows() == 4);
  CHECK(full.uncached.forward.layers[0].latent_rows.rows() == 4);
}
