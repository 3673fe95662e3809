// DecodeSession: row bookkeeping, closed-form MACs, back/reset, context limit and windows.
#include <catch2/catch.hpp>

#include "core/engine/kernels/error.h"
#include "core/engine/session/session.h"
#include "reference_gpt.h"
#include "test_helpers.h"

using namespace kvscope;
using test::range;

namespace {
// Logits as doubles, for Catch's vector matcher.
std::vector<double> doubles(const RowVector& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

const ModelConfig kConfig = test::small_config(29, 16, 32, 4, 3);

DecodeSession make_session(int window = 0, std::uint64_t seed = 3) {
  SessionOptions options;
  options.window = window;
  return DecodeSession(test::spiky_model(kConfig, seed), std::make_shared<IdTokenizer>(kConfig.vocab_size), options);
}

bool same_trace(const StepTrace& a, const StepTrace& b) {
  if (a.next_id != b.next_id || a.context_ids != b.context_ids || a.position_begin != b.position_begin) return false;
  if (a.cached.logits != b.cached.logits || a.uncached.logits != b.uncached.logits) return false;
  for (size_t l = 0; l < a.cached.forward.layers.size(); ++l) {
    const LayerRecord &x = a.cached.forward.layers[l], &y = b.cached.forward.layers[l];
    if (x.computed_rows != y.computed_rows || x.reused_rows != y.reused_rows || x.evicted_rows != y.evicted_rows)
      return false;
    if (x.keys != y.keys || x.values != y.values) return false;
    for (size_t h = 0; h < x.attention.size(); ++h)
      if (x.attention[h] != y.attention[h]) return false;
  }
  return a.cached.total_macs == b.cached.total_macs && a.uncached.total_macs == b.uncached.total_macs;
}
}  // namespace

TEST_CASE("rows: uncached recomputes 0..t, cached computes t and reuses 0..t-1, in every layer", "[session]") {
  DecodeSession session = make_session();
  session.start({4}, {7, 9, 11, 2});
  for (int s = 0; s < 5; ++s) {
    const StepTrace& t = session.step();
    REQUIRE(t.position_end == s + 1);
    for (int l = 0; l < kConfig.n_layer; ++l) {
      INFO("step " << s << " layer " << l);
      CHECK(t.uncached.forward.layers[l].computed_rows == range(0, s + 1));
      CHECK(t.uncached.forward.layers[l].reused_rows.empty());
      CHECK(t.cached.forward.layers[l].computed_rows == std::vector<int>{s});
      CHECK(t.cached.forward.layers[l].reused_rows == range(0, s));
      CHECK(t.cached.forward.layers[l].evicted_rows.empty());
    }
    CHECK(t.cached.cache_bytes == std::int64_t(2) * kConfig.n_layer * kConfig.d_model * (s + 1) * 4);
  }
}

TEST_CASE("prefill writes the whole prompt in one step", "[session]") {
  DecodeSession session = make_session();
  session.start({1, 2, 3, 4, 5}, {});
  const StepTrace& t = session.step();
  CHECK(t.prefill);
  CHECK(t.cached.forward.layers[0].computed_rows == range(0, 5));
  CHECK(t.cached.forward.layers[0].attention[0].rows() == 5);  // every prompt position queries once
  const StepTrace& u = session.step();
  CHECK_FALSE(u.prefill);
  CHECK(u.cached.forward.layers[0].computed_rows == std::vector<int>{5});
  CHECK(u.cached.forward.layers[0].attention[0].rows() == 1);  // one new query row: Q is not cached
  CHECK(u.uncached.forward.layers[0].attention[0].rows() == 6);
}

TEST_CASE("multiply-adds equal the closed form from the shapes", "[session]") {
  const std::int64_t d = kConfig.d_model, V = kConfig.vocab_size, L = kConfig.n_layer;
  const int P = 3;
  DecodeSession session = make_session();
  session.start({1, 2, 3}, {4, 5, 6, 7});
  std::int64_t total_uncached = 0, total_cached = 0;
  for (int s = 0; s < 5; ++s) {
    const StepTrace& t = session.step();
    const std::int64_t T = P + s;  // positions after this step
    // Uncached: T rows projected; the query at position p reads p + 1 keys.
    const std::int64_t keys_unc = T * (T + 1) / 2;
    const std::int64_t unc = L * (T * d * 3 * d + 2 * keys_unc * d + T * d * d + T * 8 * d * d) + d * V;
    // Cached: n new rows (P at prefill, then 1), each reading every position up to itself.
    const std::int64_t n = s == 0 ? P : 1;
    const std::int64_t keys_c = s == 0 ? keys_unc : T;
    const std::int64_t cac = L * (n * d * 3 * d + 2 * keys_c * d + n * d * d + n * 8 * d * d) + d * V;
    INFO("step " << s);
    CHECK(t.uncached.macs() == unc);
    CHECK(t.cached.macs() == cac);
    CHECK(t.uncached.forward.layers[1].macs.scores == keys_unc * d);
    CHECK(t.cached.forward.layers[1].keys_read == keys_c);
    total_uncached += unc;
    total_cached += cac;
    CHECK(t.uncached.total_macs == total_uncached);
    CHECK(t.cached.total_macs == total_cached);
    CHECK(t.cached.total_rows_computed == L * T);
    CHECK(t.uncached.total_rows_computed == L * (P * (s + 1) + s * (s + 1) / 2));
  }
}

TEST_CASE("back then step reproduces the identical trace, windowed or not", "[session]") {
  for (int window : {0, 3}) {
    DecodeSession session = make_session(window);
    session.start({3, 1, 4}, {1, 5, 9, 2, 6});
    std::vector<StepTrace> first;
    for (int s = 0; s < 6; ++s) first.push_back(session.step());
    // Go back three steps (past evictions when windowed), then forward again.
    for (int i = 0; i < 3; ++i) REQUIRE(session.back());
    CHECK(session.steps_done() == 3);
    CHECK(session.cache().next_position() == first[2].position_end);
    for (int s = 3; s < 6; ++s) {
      INFO("window " << window << " step " << s);
      CHECK(same_trace(session.step(), first[s]));
    }
  }
}

TEST_CASE("reset gives a fresh session: position 0, empty cache (LLMs-from-scratch PR #925)", "[session]") {
  DecodeSession session = make_session();
  session.start({5, 6}, {7, 8});
  for (int s = 0; s < 3; ++s) session.step();
  session.reset();
  CHECK(session.cache().next_position() == 0);
  CHECK(session.cache().rows_held() == 0);
  CHECK(session.history().empty());
  CHECK_FALSE(session.back());
  // A new prompt after use gives exactly what a new session gives.
  session.start({9, 10, 11}, {});
  DecodeSession fresh = make_session();
  fresh.start({9, 10, 11}, {});
  for (int s = 0; s < 3; ++s) {
    const StepTrace& a = session.step();
    const StepTrace& b = fresh.step();
    CHECK(a.position_begin == b.position_begin);
    CHECK(same_trace(a, b));
  }
}

TEST_CASE("several tokens fed to a non-empty cache see the right mask (LLMs-from-scratch PR #697)", "[session]") {
  auto model = test::spiky_model(kConfig, 11);
  KvCache cache(kConfig, 0);
  RowVector logits;
  ForwardRecord record;
  const std::vector<int> ids = {3, 14, 15, 9, 2, 6};
  model->forward_cached({3, 14, 15}, cache, 0, logits, nullptr);
  model->forward_cached({9, 2, 6}, cache, 0, logits, &record);  // three queries at positions 3..5
  CHECK_THAT(doubles(logits),
             Catch::Matchers::Approx(reference::last_logits(kConfig, model->weights(), ids, 0)).epsilon(1e-4).margin(1e-4));
  for (const LayerRecord& l : record.layers)
    for (const Matrix& a : l.attention)
      for (int i = 0; i < 3; ++i) {
        const int pos = 3 + i;
        CHECK(a.row(i).head(pos + 1).sum() == Approx(1.0f).epsilon(1e-5));
        CHECK(a.row(i).tail(a.cols() - pos - 1).cwiseAbs().sum() == 0.0f);  // no weight on the future
        CHECK(a.row(i).head(pos + 1).minCoeff() > 0.0f);                    // and some on every past key
      }
}

TEST_CASE("the context limit is refused before any work without a window", "[session]") {
  DecodeSession session = make_session();
  session.start({1, 2, 3}, {});
  // 3 + n - 1 positions are fed by n steps: 14 steps fit into 16, 15 do not.
  CHECK_NOTHROW(session.check_steps(14));
  CHECK_THROWS_WITH(session.check_steps(15), Catch::Contains("context length is 16"));
  for (int s = 0; s < 14; ++s) session.step();
  CHECK_FALSE(session.can_step());
  CHECK_THROWS_AS(session.step(), DataError);
  CHECK(session.steps_done() == 14);  // the refused step changed nothing
  CHECK_THROWS_AS(session.start(std::vector<int>(17, 1), {}), DataError);
  CHECK_THROWS_AS(session.start({}, {}), DataError);
  CHECK_THROWS_AS(session.start({29}, {}), DataError);  // outside the vocabulary
}

TEST_CASE("a sliding window evicts the oldest rows but never passes the learned positions", "[session]") {
  const int W = 4;
  DecodeSession session = make_session(W);
  session.start({1, 2}, test::random_ids(30, kConfig.vocab_size, 4));
  // 2 + n - 1 positions are fed by n steps: 15 steps fill the context of 16.
  CHECK_THROWS_WITH(session.check_steps(16), Catch::Contains("context length is 16"));
  for (int s = 0; s < 15; ++s) {
    const StepTrace& t = session.step();
    const int p = t.newest_position();
    const LayerRecord& l = t.cached.forward.layers[2];
    INFO("step " << s << " position " << p);
    CHECK(l.reused_rows == (s == 0 ? std::vector<int>{} : range(std::max(0, p - W + 1), p)));
    CHECK(l.evicted_rows == (p >= W && s > 0 ? std::vector<int>{p - W} : std::vector<int>{}));
    CHECK(session.cache().rows_held() == std::min(p + 1, W));
    CHECK(l.held_rows == range(std::max(0, p - W + 1), p + 1));  // the trace says what the cache holds
    REQUIRE(!l.visible_keys.empty());
    CHECK(l.visible_keys.back().first == std::max(0, p - W + 1));
    CHECK(l.visible_keys.back().last == p);
    CHECK(t.cached.cache_bytes == std::int64_t(2) * kConfig.n_layer * kConfig.d_model * std::min(p + 1, W) * 4);
    CHECK(t.max_abs_logit_diff < 1e-3);
  }
  CHECK(session.cache().next_position() == 16);
  CHECK_FALSE(session.can_step());  // a window bounds memory; it does not lengthen the position table
}

TEST_CASE("bad session options are refused", "[session]") {
  auto model = test::spiky_model(kConfig, 1);
  auto tok = std::make_shared<IdTokenizer>(kConfig.vocab_size);
  SessionOptions o;
  o.window = -1;
  CHECK_THROWS_AS(DecodeSession(model, tok, o), UsageError);
  o.window = kConfig.context_length + 1;
  CHECK_THROWS_AS(DecodeSession(model, tok, o), UsageError);
  o = SessionOptions();
  o.run_cached = o.run_uncached = false;
  CHECK_THROWS_AS(DecodeSession(model, tok, o), UsageError);
  o = SessionOptions();
  o.sampling.temperature = -1;
  CHECK_THROWS_AS(DecodeSession(model, tok, o), UsageError);
}

TEST_CASE("sampling is seeded and reproducible, greedy is the argmax", "[session]") {
  SessionOptions o;
  o.sampling = {1.5f, 5, 42};
  auto model = test::spiky_model(kConfig, 8);
  auto tok = std::make_shared<IdTokenizer>(kConfig.vocab_size);
  DecodeSession a(model, tok, o), b(model, tok, o);
  a.start({1}, {});
  b.start({1}, {});
  for (int s = 0; s < 8; ++s) {
    const StepTrace& x = a.step();
    CHECK(x.next_id == b.step().next_id);
    // top-k 5: the sampled token is among the five most likely.
    bool in_top = false;
    for (const TokenProbability& p : x.top) in_top |= p.id == x.next_id;
    CHECK(in_top);
  }
  DecodeSession greedy(model, tok, SessionOptions());
  greedy.start({1}, {});
  const StepTrace& g = greedy.step();
  Eigen::Index best;
  g.cached.logits.maxCoeff(&best);
  CHECK(g.next_id == int(best));
  CHECK(g.top[0].id == int(best));
  float sum = 0;
  for (const TokenProbability& p : g.top) sum += p.probability;
  CHECK(sum <= 1.0001f);
  CHECK(g.top[0].probability >= g.top[1].probability);
}
