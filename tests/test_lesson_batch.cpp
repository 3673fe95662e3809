// The batch lessons (two_students_one_prompt, branching, take_it_back): every sequence against its own
// single run (a DecodeSession, contiguous cache), block counts against closed forms from the prompt
// lengths, the pool free again at the end, exactly one copy on write where a branch writes, rollback
// and edit counts from positions; and bad "actions" refused with the file and field named.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/engine/kernels/error.h"
#include "core/lessons/lesson_run.h"
#include "lesson_helpers.h"

using namespace kvscope;

namespace {

const LoadedModel& demo() {
  static const LoadedModel m = load_preset("demo");
  return m;
}

LessonRun run_to_end(const std::string& name) { return test::run_lesson_to_end(name, demo()); }

// Greedy tokens of a sequence run alone: prompt, then n new tokens (step 0 chooses the first).
std::vector<int> single_run(const std::vector<int>& prompt, int n) {
  DecodeSession session(demo().model, demo().tokenizer, SessionOptions{});
  session.start(prompt, {});
  for (int s = 0; s < n; ++s) session.step();
  return session.tokens();
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

int count_events(const BatchRound& round, BlockEventKind kind) {
  int n = 0;
  for (const BlockEvent& e : round.events) n += e.kind == kind;
  return n;
}

}  // namespace

TEST_CASE("two_students_one_prompt: the system prompt's full blocks are stored once; each student equals a single run", "[lesson][batch]") {
  const LessonRun run = run_to_end("two_students_one_prompt");
  const BatchScript& b = *run.batch();
  const BatchSession& session = *b.session;
  REQUIRE(session.n_sequences() == 3);
  const int B = run.lesson().block_size, system = 14;  // "You are a helpful tutor . Answer in one short sentence . Question :"
  const int answer = run.lesson().answer_tokens;
  for (int s = 0; s < 3; ++s) {
    INFO("sequence " << s);
    const std::vector<int> prompt = session.prompt(s);
    CHECK(session.tokens(s) == single_run(prompt, answer));
  }
  // Round 0: two 22-token prompts; the second finds the first's full system-prompt blocks.
  const BatchRound& r0 = b.round(0);
  const int p0 = int(session.prompt(0).size()), p1 = int(session.prompt(1).size());
  CHECK(r0.ledger.blocks_shared == system / B);
  CHECK(r0.ledger.blocks_in_use == ceil_div(p0, B) + ceil_div(p1, B) - system / B);
  CHECK(r0.ledger.rows_used == p0 + p1 - (system / B) * B);
  CHECK(r0.sequences[1].rows_shared == (system / B) * B);
  // The join in round 2 shares the same blocks: three holders each.
  const BatchRound& r2 = b.round(2);
  REQUIRE(r2.sequences.size() == 3);
  CHECK(r2.sequences[2].rows_shared == (system / B) * B);
  for (int block = 0; block < system / B; ++block) CHECK(r2.ref_counts[std::size_t(block)] == 3);
  // Waste only in last blocks: under one block per sequence holding any.
  for (int step = 0; step < b.rounds(); ++step) {
    const PoolLedger& l = b.round(step).ledger;
    int holding = 0;
    for (const SequenceRound& s : b.round(step).sequences) holding += !s.block_table.empty();
    CHECK(l.rows_wasted < std::int64_t(holding) * B + (holding == 0));
  }
  // The end: every block free again.
  const BatchRound& last = b.round(b.rounds() - 1);
  CHECK(last.ledger.blocks_in_use == 0);
  for (int count : last.ref_counts) CHECK(count == 0);
  // The panes' run is sequence 0's: the report says the batch chose the same token.
  CHECK(run.reports()[1].numbers["batch_panes"]["same_token"] == true);
  const nlohmann::json j = lesson_step_to_json(run, 0);
  CHECK(j["batch_round"]["blocks_shared"] == system / B);
}

TEST_CASE("branching: the branch shares every block, one copy on write, a different sample", "[lesson][batch]") {
  const LessonRun run = run_to_end("branching");
  const BatchScript& b = *run.batch();
  const BatchSession& session = *b.session;
  REQUIRE(session.n_sequences() == 2);
  const int B = run.lesson().block_size;
  const int prompt = int(session.prompt(0).size());
  CHECK(session.tokens(0) == single_run(session.prompt(0), run.lesson().answer_tokens));
  const BatchRound& r1 = b.round(1);
  REQUIRE(count_events(r1, BlockEventKind::Fork) == 1);
  // The prompt (2 tokens) half-fills block 0; whoever writes first into it copies exactly those rows.
  CHECK(r1.blocks_copied == 1);
  for (const BlockEvent& e : r1.events)
    if (e.kind == BlockEventKind::CopyOnWrite) CHECK(e.count == prompt % B);
  int copies = 0;
  for (int step = 0; step < b.rounds(); ++step) copies += int(b.round(step).blocks_copied);
  CHECK(copies == 1);
  CHECK(session.tokens(1) != session.tokens(0));  // sampled at temperature 1 (seed 2): another continuation
  CHECK(std::vector<int>(session.tokens(1).begin(), session.tokens(1).begin() + prompt) == session.prompt(0));
  for (int count : b.round(b.rounds() - 1).ref_counts) CHECK(count == 0);
}

TEST_CASE("take_it_back: rollback drops the rows past the kept tokens; an edit recomputes every row after it", "[lesson][batch]") {
  const LessonRun run = run_to_end("take_it_back");
  const BatchScript& b = *run.batch();
  const Lesson& lesson = run.lesson();
  REQUIRE(lesson.actions.size() == 2);
  const BatchAction& rollback = lesson.actions[0];
  const BatchAction& edit = lesson.actions[1];
  // Before the rollback round, sequence 1 had cached every position but its newest token's.
  const SequenceRound& before = b.round(rollback.round - 1).sequences[1];
  const SequenceRound& after_rollback = b.round(rollback.round).sequences[1];
  for (const BlockEvent& e : b.round(rollback.round).events)
    if (e.kind == BlockEventKind::Truncate) CHECK(e.count == before.cached - (rollback.tokens - 1));
  CHECK(after_rollback.position_begin == rollback.tokens - 1);  // the last kept token is fed again
  // Rolling back then decoding again reproduces the same greedy tokens.
  CHECK(b.session->tokens(0) == single_run(b.session->prompt(0), lesson.answer_tokens));
  // The edit: rows from the position on are invalid and recomputed in that round, shared block copied first.
  const SequenceRound& edited = b.round(edit.round).sequences[1];
  const SequenceRound& pre_edit = b.round(edit.round - 1).sequences[1];
  CHECK(edited.position_begin == edit.position);
  CHECK(edited.rows_recomputed == pre_edit.cached - edit.position);
  CHECK(b.round(edit.round).blocks_copied == 1);  // block 0 held "Time flies" for both sequences
  CHECK(edited.tokens[std::size_t(edit.position)] == demo().tokenizer->encode(edit.text).at(0));
  // After the edit, sequence 1 continues as a single run of its edited text would.
  const std::vector<int> edited_prefix(edited.tokens.begin(), edited.tokens.begin() + edited.position_end);
  const std::vector<int>& final_tokens = b.session->tokens(1);
  const std::vector<int> alone = single_run(edited_prefix, int(final_tokens.size()) - int(edited_prefix.size()));
  CHECK(alone == final_tokens);
}

TEST_CASE("batch lessons: bad actions are refused with the file and field named", "[lesson][batch]") {
  const std::string head = R"({"kind": "batch", "preset": "demo", "prompt": "Time flies", "questions": [" fast", " like"], )";
  struct Bad {
    std::string fields, problem;
  };
  const std::vector<Bad> bad = {
      {R"("actions": [{"round": 1, "do": "jump", "sequence": 1}])", "unknown \"do\" \"jump\""},
      {R"("actions": [{"do": "fork", "sequence": 1}])", "actions[0]: missing \"round\""},
      {R"("actions": [{"round": 1, "do": "truncate", "sequence": 0, "tokens": 2}])", "sequence 0 is the one the panes follow"},
      {R"("actions": [{"round": 1, "do": "truncate", "sequence": 1}])", "missing \"tokens\""},
      {R"("actions": [{"round": 2, "do": "fork", "sequence": 1}, {"round": 1, "do": "fork", "sequence": 0}])", "round order"},
      {R"("actions": [{"round": 1, "do": "fork", "sequence": 1, "temperature": "hot"}])", "\"temperature\" must be a number"},
      {R"("actions": [{"round": 1, "do": "edit", "sequence": 1, "position": 0, "text": "flies", "extra": 1}])", "unknown field \"extra\""},
      {R"("block_size": 0)", "\"block_size\" must be an integer from 1"},
      {R"("policy": "bits:8")", "a batch lesson runs the plain paged cache"},
  };
  for (const Bad& b : bad) {
    INFO(b.fields);
    CHECK_THROWS_WITH(parse_lesson(head + b.fields + "}", "bad.json"), Catch::StartsWith("bad.json: ") && Catch::Contains(b.problem));
  }
  // Refused by the run: a sequence that does not exist yet, an edit that is not one token, a late action.
  const std::vector<Bad> refused = {
      {R"("actions": [{"round": 1, "do": "fork", "sequence": 5}])", "actions[0]: sequence 5 does not exist yet"},
      {R"("actions": [{"round": 1, "do": "edit", "sequence": 1, "position": 0, "text": "flies fast"}])", "must be one token"},
      {R"("actions": [{"round": 90, "do": "fork", "sequence": 1}])", "comes after the last round"},
  };
  for (const Bad& b : refused) {
    INFO(b.fields);
    const Lesson lesson = parse_lesson(head + b.fields + "}", "bad.json");
    CHECK_THROWS_AS(LessonRun(lesson, demo()), DataError);
    CHECK_THROWS_WITH(LessonRun(lesson, demo()), Catch::StartsWith("bad.json: ") && Catch::Contains(b.problem));
  }
  CHECK_THROWS_WITH(parse_lesson(R"({"kind": "decode", "prompt": "Time", "block_size": 4})", "d.json"),
                    Catch::Contains("belong to batch lessons"));
}
