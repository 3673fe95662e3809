#include "core/lessons/batch_script.h"

#include <algorithm>

#include "core/engine/kernels/error.h"
#include "core/lessons/lesson_run.h"

namespace kvscope {

namespace {

std::string where_of(const Lesson& lesson) { return lesson.source.empty() ? "" : lesson.source + ": "; }

// Enough blocks for every sequence the lesson will hold (joins and branches too) at its longest with
// nothing shared: the free blocks left are what sharing saved.
int pool_blocks(const Lesson& lesson, const std::vector<std::vector<int>>& prompts) {
  int longest = 0;
  for (const std::vector<int>& p : prompts) longest = std::max(longest, int(p.size()));
  int sequences = int(prompts.size());
  for (const BatchAction& a : lesson.actions)
    if (a.kind == BatchActionKind::Fork || a.kind == BatchActionKind::Join) ++sequences;
  int blocks = 0;
  for (const std::vector<int>& p : prompts) blocks += blocks_without_sharing(int(p.size()), lesson.answer_tokens, lesson.block_size);
  const int others = sequences - int(prompts.size());
  return blocks + others * blocks_without_sharing(longest + lesson.answer_tokens, lesson.answer_tokens, lesson.block_size);
}

void apply(BatchSession& session, const LoadedModel& model, const Lesson& lesson, const BatchAction& a,
           const std::string& where, std::vector<std::string>& origins) {
  if (a.kind == BatchActionKind::Join) {
    session.add_sequence(encode_text(*model.tokenizer, a.text, "text", TextRole::Prompt), lesson.answer_tokens);
    origins.push_back("joined in round " + std::to_string(a.round));
    return;
  }
  if (a.sequence >= session.n_sequences())
    throw DataError(where + "sequence " + std::to_string(a.sequence) + " does not exist yet (" +
                    std::to_string(session.n_sequences()) + " so far)");
  switch (a.kind) {
    case BatchActionKind::Fork:
      session.fork(a.sequence, SamplingOptions{a.temperature, 0, std::uint64_t(a.seed)});
      origins.push_back("branch of " + std::to_string(a.sequence));
      break;
    case BatchActionKind::Truncate: session.truncate(a.sequence, a.tokens); break;
    case BatchActionKind::Edit: {
      const std::vector<int> ids = encode_text(*model.tokenizer, a.text, "text");
      if (ids.size() != 1)
        throw DataError(where + "\"text\" must be one token; it is " + std::to_string(ids.size()));
      session.edit(a.sequence, a.position, ids[0]);
      break;
    }
    case BatchActionKind::Join: break;
  }
}

}  // namespace

std::vector<std::vector<int>> batch_prompts(const LoadedModel& model, const Lesson& lesson,
                                            const std::vector<int>& first_prompt_ids) {
  if (lesson.questions.empty()) return {first_prompt_ids};
  std::vector<std::vector<int>> prompts;
  for (std::size_t i = 0; i < lesson.questions.size(); ++i) {
    std::vector<int> ids = first_prompt_ids;
    const std::vector<int> q =
        encode_text(*model.tokenizer, lesson.questions[i], where_of(lesson) + "questions[" + std::to_string(i) + "]");
    ids.insert(ids.end(), q.begin(), q.end());
    prompts.push_back(std::move(ids));
  }
  return prompts;
}

BatchScript run_batch_script(const LoadedModel& model, const Lesson& lesson, const std::vector<int>& first_prompt_ids) {
  const std::string where = where_of(lesson);
  const std::vector<std::vector<int>> prompts = batch_prompts(model, lesson, first_prompt_ids);
  BatchOptions options;
  options.block_size = lesson.block_size;
  options.pool_blocks = pool_blocks(lesson, prompts);
  BatchScript script;
  script.session = std::make_unique<BatchSession>(model.model, options);
  BatchSession& session = *script.session;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    try {
      session.add_sequence(prompts[i], lesson.answer_tokens);
    } catch (const DataError& e) {
      throw DataError(where + "sequence " + std::to_string(i) + ": " + e.what());
    }
    script.origins.push_back(lesson.questions.empty() ? "the prompt" : "prompt + questions[" + std::to_string(i) + "]");
  }
  std::size_t next_action = 0;
  constexpr int kMaxRounds = 256;  // a lesson is a few dozen rounds; this only stops a runaway script
  for (int round = 0; round < kMaxRounds; ++round) {
    for (; next_action < lesson.actions.size() && lesson.actions[next_action].round == round; ++next_action) {
      const std::string here = where + "actions[" + std::to_string(next_action) + "]: ";
      try {
        apply(session, model, lesson, lesson.actions[next_action], here, script.origins);
      } catch (const UsageError& e) {
        throw DataError(here + e.what());
      } catch (const DataError& e) {
        const std::string m = e.what();
        throw DataError(m.rfind(here, 0) == 0 ? m : here + m);
      }
    }
    if (!session.can_step()) break;
    try {
      session.step();
    } catch (const UsageError& e) {  // the pool ran out: the lesson asked for more than it sized
      throw DataError(where + e.what());
    }
  }
  if (next_action < lesson.actions.size())
    throw DataError(where + "actions[" + std::to_string(next_action) + "]: round " +
                    std::to_string(lesson.actions[next_action].round) + " comes after the last round (" +
                    std::to_string(session.rounds().size() - 1) + ")");
  return script;
}

}  // namespace kvscope
