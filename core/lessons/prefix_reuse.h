#pragma once
// Reusing a prefix: a shared "system prompt" is prefilled once and its KvCache state saved (KvCache is
// a value: copying it is the snapshot); each question starts from a copy of that state, feeds only
// its own tokens and decodes greedily. Every step is a StepTrace like DecodeSession's (cached = the
// reuse path, uncached = recomputing everything), so the window shows it step by step. Each question
// is also run fresh (a new DecodeSession on prefix + question) to show the outputs are the same and to
// count the multiply-adds the reuse saved.
#include <cstdint>
#include <string>
#include <vector>

#include "core/formats/model_source.h"
#include "core/engine/session/trace.h"

namespace kvscope {

struct PrefixQuestion {
  std::string text;
  std::vector<int> question_ids;
  std::vector<int> answer_ids;        // greedy, with the prefix's rows reused
  std::vector<int> fresh_answer_ids;  // greedy, from a fresh run of prefix + question
  int first_step = 0, last_step = 0;  // the script's steps for this question
  std::int64_t macs_reused = 0;       // cached-mode MACs of those steps (the prefix is not recomputed)
  std::int64_t macs_fresh = 0;        // cached-mode MACs of the fresh run, step for step
  std::vector<float> logit_diffs;     // reused path against the fresh run, max |Δlogit| per step
  float max_logit_diff = 0.0f;        // the largest of them
};

struct PrefixScript {
  std::vector<int> prefix_ids;
  std::int64_t macs_prefix = 0;        // the prefix's prefill, done once
  std::int64_t snapshot_bytes = 0;     // K/V bytes of the saved prefix state
  std::vector<StepTrace> traces;       // step 0: the prefix; then per question one chunk + decode steps
  std::vector<int> question_of_step;   // -1 for the prefix's step
  std::vector<PrefixQuestion> questions;
};

// answer_tokens >= 1 greedy tokens per question. Throws DataError if prefix + question + answer does
// not fit the context or an id is outside the vocabulary.
PrefixScript run_prefix_script(const LoadedModel& model, const std::vector<int>& prefix_ids,
                               const std::vector<std::vector<int>>& question_ids,
                               const std::vector<std::string>& question_texts, int answer_tokens);

}  // namespace kvscope
