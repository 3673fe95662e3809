// BatchSession: many sequences over one paged cache. Every sequence against its own single-sequence
// run (DecodeSession, cached); block counts against closed forms written here; no leaks; copy on write;
// fork, rollback and edit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/engine/session/batch_session.h"
#include "core/engine/session/session.h"
#include "core/formats/model_source.h"

using namespace kvscope;

namespace {

const std::string kSystem = "You are a helpful tutor . Answer in one short sentence . Question :";  // 14 words
const std::vector<std::string> kQuestions = {"what does the cache keep ? Answer :", "why is the cache fast ? Answer :",
                                             "how does the cache grow ? Answer :"};

struct SingleRun {
  std::vector<int> tokens;
  std::vector<RowVector> logits;  // per step
};

// The reference: one sequence alone in a DecodeSession, cached mode, greedy.
SingleRun single_run(const LoadedModel& m, const std::vector<int>& prompt, int n_new) {
  SessionOptions o;
  o.run_uncached = false;
  o.record_attention = false;
  o.record_rows = false;
  o.full_steps_kept = 0;
  DecodeSession session(m.model, m.tokenizer, o);
  session.start(prompt, {});
  SingleRun r;
  for (int s = 0; s < n_new; ++s) r.logits.push_back(session.step().cached.logits);
  r.tokens = session.tokens();
  return r;
}

float max_abs_diff(const RowVector& a, const RowVector& b) { return (a - b).cwiseAbs().maxCoeff(); }

int common_prefix(const std::vector<int>& a, const std::vector<int>& b) {
  int n = 0;
  while (n < int(a.size()) && n < int(b.size()) && a[std::size_t(n)] == b[std::size_t(n)]) ++n;
  return n;
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Full blocks sequence i takes from earlier ones when it joins: those inside its longest common prefix
// with an earlier prompt, leaving at least its last prompt token to feed.
int shared_blocks(const std::vector<std::vector<int>>& prompts, std::size_t i, int b) {
  int common = 0;
  for (std::size_t j = 0; j < i; ++j) common = std::max(common, common_prefix(prompts[i], prompts[j]));
  return std::min(common / b, (int(prompts[i].size()) - 1) / b);
}

int count_kind(const std::vector<BlockEvent>& events, BlockEventKind kind) {
  int n = 0;
  for (const BlockEvent& e : events) n += e.kind == kind;
  return n;
}

std::vector<std::vector<int>> encode_all(const LoadedModel& m, const std::vector<std::string>& texts) {
  std::vector<std::vector<int>> ids;
  for (const std::string& t : texts) ids.push_back(m.tokenizer->encode_prompt(t));
  return ids;
}

BatchOptions batch_options(int b, int pool_blocks = 64) {
  BatchOptions o;
  o.block_size = b;
  o.pool_blocks = pool_blocks;
  return o;
}

}  // namespace

TEST_CASE("batch: every sequence equals its single run; blocks in use follow the closed form; no leak", "[batch]") {
  for (const char* preset : {"demo", "demo-llama"}) {
    const LoadedModel m = load_preset(preset);
    std::vector<std::string> texts;
    for (const std::string& q : kQuestions) texts.push_back(kSystem + " " + q);
    const std::vector<std::vector<int>> prompts = encode_all(m, texts);
    const int n_new = 5;
    const int longest = int(std::max_element(prompts.begin(), prompts.end(), [](const auto& a, const auto& b) {
                              return a.size() < b.size();
                            })->size());
    for (int b : {1, 3, 4, longest + 1}) {
      INFO(preset << ", block size " << b);
      BatchSession batch(m.model, batch_options(b, 200));
      for (const std::vector<int>& p : prompts) batch.add_sequence(p, n_new);
      std::vector<std::vector<RowVector>> logits(prompts.size());
      while (batch.can_step()) {
        const BatchRound& r = batch.step();
        for (const SequenceRound& s : r.sequences)
          if (s.ran) logits[std::size_t(s.sequence)].push_back(s.logits);
        if (r.round >= n_new) continue;  // the last round only lets go of blocks
        // Closed forms after round r: sequence i holds P_i + r positions in ceil((P_i + r) / B) blocks;
        // the blocks it took from earlier prompts are counted once.
        int blocks = 0, rows = 0;
        for (std::size_t i = 0; i < prompts.size(); ++i) {
          const int held = int(prompts[i].size()) + r.round;
          CHECK(int(r.sequences[i].block_table.size()) == ceil_div(held, b));
          blocks += ceil_div(held, b) - shared_blocks(prompts, i, b);
          rows += held - shared_blocks(prompts, i, b) * b;
        }
        CHECK(r.ledger.blocks_in_use == blocks);
        CHECK(r.ledger.rows_used == rows);
        CHECK(r.ledger.rows_allocated == std::int64_t(blocks) * b);
        CHECK(r.ledger.rows_wasted < std::int64_t(prompts.size()) * b);  // only in each last block
      }
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        INFO("sequence " << i);
        const SingleRun want = single_run(m, prompts[i], n_new);
        CHECK(batch.tokens(int(i)) == want.tokens);
        REQUIRE(logits[i].size() == want.logits.size());
        for (std::size_t s = 0; s < want.logits.size(); ++s) {
          if (shared_blocks(prompts, i, b) == 0)
            CHECK(logits[i][s] == want.logits[s]);  // nothing shared: the same sums in the same order
          else  // shared rows came from another prefill of more rows: bit-identical on the portable
                // build (measured), but the matrix product's blocking may round them differently elsewhere
            CHECK(max_abs_diff(logits[i][s], want.logits[s]) <= 1e-4f);
        }
      }
      // Every sequence finished: every reference count back to zero, every block free.
      CHECK(batch.pool().blocks_free() == batch.pool().n_blocks());
      for (int c : batch.pool().ref_counts()) CHECK(c == 0);
      for (int s = 0; s < batch.n_sequences(); ++s) CHECK(batch.state(s) == SequenceState::Finished);
    }
  }
}

TEST_CASE("batch, done when: three prompts share a 14-token system prompt, block size 4", "[batch]") {
  const LoadedModel m = load_preset("demo");
  std::vector<std::string> texts;
  for (const std::string& q : kQuestions) texts.push_back(kSystem + " " + q);
  const std::vector<std::vector<int>> prompts = encode_all(m, texts);
  REQUIRE(m.tokenizer->encode(kSystem).size() == 14);
  for (std::size_t i = 1; i < prompts.size(); ++i) REQUIRE(common_prefix(prompts[0], prompts[i]) == 14);
  const int b = 4, n_new = 6;
  BatchSession batch(m.model, batch_options(b, 30));
  for (const std::vector<int>& p : prompts) batch.add_sequence(p, n_new);
  const BatchRound& first = batch.step();
  // The system prompt's 3 full blocks (positions 0..11) are stored once and held by all three.
  for (int k = 0; k < 3; ++k) {
    const int block = first.sequences[0].block_table[std::size_t(k)];
    CHECK(first.sequences[1].block_table[std::size_t(k)] == block);
    CHECK(first.sequences[2].block_table[std::size_t(k)] == block);
    CHECK(first.ref_counts[std::size_t(block)] == 3);
  }
  CHECK(first.ledger.blocks_shared == 3);
  CHECK(count_kind(first.events, BlockEventKind::Share) == 6);
  CHECK(first.sequences[1].rows_shared == 12);
  CHECK(first.sequences[1].position_begin == 12);  // only positions 12.. are computed
  std::int64_t last_in_use = 0, last_wasted = 0;
  while (batch.can_step()) {
    const BatchRound& r = batch.step();
    if (r.round < n_new) {
      last_in_use = r.ledger.blocks_in_use;
      last_wasted = r.ledger.rows_wasted;
    }
  }
  // After the last decoding round each holds 22 + 5 = 27 positions: 3 shared + 3 x (7 - 3) = 15 blocks.
  CHECK(last_in_use == 3 + 3 * (ceil_div(27, b) - 3));
  CHECK(last_wasted == 3 * (7 * b - 27));  // 1 row per sequence: under one block each
  CHECK(last_wasted < 3 * b);
  for (std::size_t i = 0; i < prompts.size(); ++i) CHECK(batch.tokens(int(i)) == single_run(m, prompts[i], n_new).tokens);
  CHECK(batch.pool().blocks_free() == 30);
}

TEST_CASE("batch: a sequence joining later shares the blocks and still equals its single run", "[batch]") {
  const LoadedModel m = load_preset("demo-llama");
  const std::vector<std::vector<int>> prompts = encode_all(m, {kSystem + " " + kQuestions[0], kSystem + " " + kQuestions[1]});
  const int b = 4;
  BatchSession batch(m.model, batch_options(b));
  batch.add_sequence(prompts[0], 6);
  batch.step();
  batch.step();
  const int late = batch.add_sequence(prompts[1], 3);
  const BatchRound& r = batch.step();
  CHECK(r.sequences[std::size_t(late)].rows_shared == std::min(common_prefix(prompts[0], prompts[1]) / b,
                                                               (int(prompts[1].size()) - 1) / b) * b);
  while (batch.can_step()) batch.step();
  CHECK(batch.tokens(late) == single_run(m, prompts[1], 3).tokens);
  CHECK(batch.tokens(0) == single_run(m, prompts[0], 6).tokens);
  CHECK(batch.pool().blocks_free() == batch.pool().n_blocks());
}

TEST_CASE("batch: fork shares every block; the next write into the shared last block copies exactly one", "[batch]") {
  const LoadedModel m = load_preset("demo");
  const std::vector<int> prompt = m.tokenizer->encode("Time flies fast when you are having fun");  // 8 tokens
  const int b = 3;  // 8 positions: blocks of 3, 3 and 2: the last is partial
  BatchSession batch(m.model, batch_options(b));
  batch.add_sequence(prompt, 6);
  batch.step();
  const int branch = batch.fork(0, {});
  CHECK(batch.cache(branch).block_table() == batch.cache(0).block_table());
  for (int block : batch.cache(0).block_table()) CHECK(batch.pool().ref_count(block) == 2);
  const BatchRound& r = batch.step();
  CHECK(count_kind(r.events, BlockEventKind::Fork) == 1);
  CHECK(count_kind(r.events, BlockEventKind::CopyOnWrite) == 1);
  CHECK(r.blocks_copied == 1);
  CHECK(batch.pool().rows_copied() == 2);  // the partial block's 2 filled rows
  CHECK(r.ledger.blocks_shared == 2);      // the two full blocks stay shared
  CHECK(r.ledger.blocks_in_use == 4);      // 3 + the copy
  while (batch.can_step()) batch.step();
  const SingleRun want = single_run(m, prompt, 6);
  CHECK(batch.tokens(0) == want.tokens);
  CHECK(batch.tokens(branch) == want.tokens);  // greedy: the branch makes the same choices
  CHECK(batch.pool().blocks_free() == batch.pool().n_blocks());
}

TEST_CASE("batch: rollback frees the blocks past the position, and decoding again gives the same tokens", "[batch]") {
  for (const char* preset : {"demo", "demo-llama"}) {
    INFO(preset);
    const LoadedModel m = load_preset(preset);
    const std::vector<int> prompt = m.tokenizer->encode_prompt("Time flies fast when you are having fun");
    const int p = int(prompt.size()), b = 4, n_new = 8;
    const SingleRun want = single_run(m, prompt, n_new);
    BatchSession batch(m.model, batch_options(b));
    batch.add_sequence(prompt, n_new);
    for (int r = 0; r < 6; ++r) batch.step();  // p + 5 positions cached, token p + 6 chosen
    REQUIRE(batch.cache(0).next_position() == p + 5);
    batch.truncate(0, p + 2);  // keep the prompt and 2 new tokens: like rejected draft tokens
    CHECK(batch.cache(0).next_position() == p + 1);  // the last kept token is fed again for its logits
    CHECK(int(batch.cache(0).block_table().size()) == ceil_div(p + 1, b));
    CHECK(batch.pool().blocks_in_use() == ceil_div(p + 1, b));
    const BatchRound& r = batch.step();
    CHECK(r.events.front().kind == BlockEventKind::Truncate);
    CHECK(r.events.front().count == 4);  // rows p + 1 .. p + 4 dropped
    CHECK(r.sequences[0].position_begin == p + 1);
    CHECK(r.sequences[0].rows_recomputed == 1);
    CHECK(r.sequences[0].logits == want.logits[2]);  // the same single row, the same sums
    while (batch.can_step()) batch.step();
    CHECK(batch.tokens(0) == want.tokens);
    CHECK(batch.pool().blocks_free() == batch.pool().n_blocks());
  }
}

TEST_CASE("batch: editing a past token recomputes exactly the rows from that position", "[batch]") {
  const LoadedModel m = load_preset("demo");
  const std::vector<int> prompt = m.tokenizer->encode("Time flies fast when you are having fun");
  const int p = int(prompt.size()), b = 4;
  BatchOptions options = batch_options(b);
  options.record_forward = true;
  BatchSession batch(m.model, options);
  batch.add_sequence(prompt, 6);
  for (int r = 0; r < 4; ++r) batch.step();  // p + 3 positions cached
  const int q = 3;                           // "when" -> "and"
  const int cached = batch.cache(0).next_position();
  REQUIRE(cached == p + 3);
  batch.edit(0, q, m.tokenizer->encode("and")[0]);
  CHECK(batch.cache(0).next_position() == q);
  const std::vector<int> edited = batch.tokens(0);
  const BatchRound& r = batch.step();
  CHECK(r.events.front().kind == BlockEventKind::Edit);
  CHECK(r.events.front().count == cached - q);  // rows invalidated
  CHECK(r.sequences[0].position_begin == q);
  CHECK(r.sequences[0].position_end == int(edited.size()));
  CHECK(r.sequences[0].rows_recomputed == cached - q);  // the one row past them is new
  std::vector<int> computed, reused;
  for (int pos = q; pos < int(edited.size()); ++pos) computed.push_back(pos);
  for (int pos = 0; pos < q; ++pos) reused.push_back(pos);
  for (const LayerRecord& layer : r.sequences[0].forward.layers) {
    CHECK(layer.computed_rows == computed);  // every layer projects K/V again from the edit on
    CHECK(layer.reused_rows == reused);      // and reads the rows before it from the blocks
  }
  // The same as a fresh run over the edited tokens (prefilled at once: float rounding apart).
  const SingleRun fresh = single_run(m, edited, 1);
  CHECK(max_abs_diff(r.sequences[0].logits, fresh.logits[0]) <= 1e-4f);
  CHECK(r.sequences[0].next_id == fresh.tokens.back());
}

TEST_CASE("batch: a pool too small is refused with a usage error, and the session says so afterwards", "[batch]") {
  const LoadedModel m = load_preset("demo");
  const std::vector<int> prompt = m.tokenizer->encode("Time flies fast when you are having fun");
  BatchSession batch(m.model, batch_options(4, 2));  // 8 tokens fill both blocks: a third sequence cannot fit
  batch.add_sequence(prompt, 2);
  batch.add_sequence(m.tokenizer->encode("Birds sing"), 2);
  CHECK_THROWS_AS(batch.step(), PoolFullError);
  CHECK_THROWS_WITH(batch.step(), Catch::Contains("ran out of blocks"));
  CHECK_THROWS_AS(BatchSession(m.model, batch_options(0)), UsageError);
  CHECK_THROWS_AS(BatchSession(m.model, batch_options(4, 0)), UsageError);
  BatchSession ok(m.model, batch_options(4));
  CHECK_THROWS_AS(ok.add_sequence({}, 2), DataError);
  CHECK_THROWS_WITH(ok.add_sequence(prompt, 30), Catch::Contains("context length is 32"));
}
