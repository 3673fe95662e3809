#pragma once
// BatchScript: a batch lesson's whole run. One BatchSession over the lesson's sequences (sequence i is
// the prompt + questions[i]), each lesson action applied before its round, stepped until nothing is
// left to do (the last rounds let go of every block). Each round is one step of the lesson: the
// block-pool view draws rounds()[step] and the report reads it. It runs once, at the lesson's start
// (a handful of short sequences on a small model).
#include <memory>
#include <string>
#include <vector>

#include "core/engine/session/batch_session.h"
#include "core/formats/model_source.h"
#include "core/lessons/lesson.h"

namespace kvscope {

struct BatchScript {
  std::unique_ptr<BatchSession> session;
  std::vector<std::string> origins;  // per sequence: "joined", "branch of 0", ...
  int rounds() const { return int(session->rounds().size()); }
  const BatchRound& round(int step) const { return session->rounds()[std::size_t(step)]; }
};

// first_prompt_ids: the lesson's prompt as the tokenizer encodes a prompt (BOS where it adds one).
// Throws DataError "SOURCE: actions[i]: problem" for an action the session refuses (a sequence that does
// not exist yet, an edit whose text is not one token, a rollback past the tokens) or a pool that runs out.
BatchScript run_batch_script(const LoadedModel& model, const Lesson& lesson, const std::vector<int>& first_prompt_ids);

// Sequence i's prompt: the lesson's prompt, then questions[i] (none: the prompt alone, one sequence).
std::vector<std::vector<int>> batch_prompts(const LoadedModel& model, const Lesson& lesson,
                                            const std::vector<int>& first_prompt_ids);

}  // namespace kvscope
