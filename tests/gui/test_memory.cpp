// Bounded history: a session keeps the large tensors of its newest steps only and recomputes older
// ones on demand, with the very numbers it computed the first time. No display needed.
#include <catch2/catch.hpp>

#include "core/engine/session/session.h"
#include "core/formats/model_source.h"

using namespace kvscope;

namespace {

// Every recorded tensor and row list of one mode, compared exactly (no tolerance: the same sums in
// the same order must give the same bits).
void check_same_mode(const ModeTrace& a, const ModeTrace& b) {
  REQUIRE(a.ran == b.ran);
  CHECK(a.logits == b.logits);
  CHECK(a.total_macs == b.total_macs);
  CHECK(a.total_rows_computed == b.total_rows_computed);
  CHECK(a.cache_bytes == b.cache_bytes);
  REQUIRE(a.forward.layers.size() == b.forward.layers.size());
  for (std::size_t l = 0; l < a.forward.layers.size(); ++l) {
    INFO("layer " << l);
    const LayerRecord &x = a.forward.layers[l], &y = b.forward.layers[l];
    CHECK(x.computed_rows == y.computed_rows);
    CHECK(x.reused_rows == y.reused_rows);
    CHECK(x.evicted_rows == y.evicted_rows);
    CHECK(x.held_rows == y.held_rows);
    REQUIRE(x.attention.size() == y.attention.size());
    for (std::size_t h = 0; h < x.attention.size(); ++h) CHECK(x.attention[h] == y.attention[h]);
    CHECK(x.keys == y.keys);
    CHECK(x.values == y.values);
    CHECK(x.queries == y.queries);
    CHECK(x.query == y.query);
  }
}

void check_same_trace(const StepTrace& a, const StepTrace& b) {
  CHECK(a.next_id == b.next_id);
  CHECK(a.context_ids == b.context_ids);
  CHECK(a.max_abs_logit_diff == b.max_abs_logit_diff);
  check_same_mode(a.cached, b.cached);
  check_same_mode(a.uncached, b.uncached);
}

DecodeSession demo_session(int window, int full_steps_kept) {
  LoadedModel m = load_preset("demo");
  SessionOptions options;
  options.window = window;
  options.full_steps_kept = full_steps_kept;
  DecodeSession session(m.model, m.tokenizer, options);
  session.start(m.tokenizer->encode("Time flies"), {});
  return session;
}

}  // namespace

TEST_CASE("old steps drop their large tensors and recompute them identically", "[gui][views][memory]") {
  for (int window : {0, 3}) {
    INFO("window " << window);
    DecodeSession keep_all = demo_session(window, 0);
    DecodeSession bounded = demo_session(window, 2);
    const int n_steps = 7;
    for (int s = 0; s < n_steps; ++s) {
      keep_all.step();
      bounded.step();
    }
    // Steps 0..4 dropped their tensors; 5 and 6 (the newest two) kept them.
    for (int s = 0; s < n_steps; ++s) {
      INFO("step " << s);
      const StepTrace& t = bounded.history()[std::size_t(s)];
      CHECK(t.tensors_dropped == (s < n_steps - 2));
      CHECK_FALSE(keep_all.history()[std::size_t(s)].tensors_dropped);
      if (t.tensors_dropped) {
        CHECK(t.uncached.forward.layers[0].attention.empty());
        CHECK(t.uncached.logits.size() == 0);
        CHECK(t.cached.forward.layers[0].keys.rows() > 0);  // the cache's own rows stay
      }
      check_same_trace(bounded.recompute_step(s), keep_all.history()[std::size_t(s)]);
    }
    // Back past the kept steps: the step shown again has its tensors, the same as when first run.
    for (int s = n_steps - 1; s >= 1; --s) {
      REQUIRE(bounded.back());
      REQUIRE(keep_all.back());
      INFO("back to step " << s - 1);
      CHECK_FALSE(bounded.history().back().tensors_dropped);
      check_same_trace(bounded.history().back(), keep_all.history().back());
    }
    // And forward again: stepping after back reproduces the run.
    for (int s = 1; s < n_steps; ++s) check_same_trace(bounded.step(), keep_all.step());
  }
}

TEST_CASE("full_step restores a dropped step in place", "[gui][views][memory]") {
  DecodeSession session = demo_session(0, 1);
  for (int s = 0; s < 4; ++s) session.step();
  REQUIRE(session.history()[1].tensors_dropped);
  const StepTrace& t = session.full_step(1);
  CHECK_FALSE(t.tensors_dropped);
  CHECK_FALSE(t.uncached.forward.layers[0].attention.empty());
  CHECK(t.uncached.forward.layers[0].attention[0].rows() == t.position_end);
}

TEST_CASE("a byte budget keeps fewer full steps, never fewer than the newest", "[gui][views][memory]") {
  LoadedModel m = load_preset("demo");
  SessionOptions options;
  options.full_steps_kept = 8;
  options.full_bytes_kept = 1;  // smaller than any step: only the newest keeps its tensors
  DecodeSession session(m.model, m.tokenizer, options);
  session.start(m.tokenizer->encode("Time flies"), {});
  for (int s = 0; s < 5; ++s) session.step();
  for (int s = 0; s < 5; ++s) CHECK(session.history()[std::size_t(s)].tensors_dropped == (s < 4));
  CHECK(large_tensor_bytes(session.history().back()) > 0);
  CHECK(large_tensor_bytes(session.history()[0]) == 0);
}
