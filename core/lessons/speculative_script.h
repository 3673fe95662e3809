#pragma once
// A speculative-decoding lesson run (core/engine/session/speculative.h), step by step, as StepTraces the
// window and kvscope-cli show like any other: step 0 is the target's prefill of the prompt; step r + 1
// is round r: the cached mode is the target's ONE pass over the pending token and the k guesses
// (positions P..P+k written, 0..P-1 read back, the rejected guesses' rows then rolled back), the
// uncached mode recomputes every position up to the last kept guess from nothing, as decoding without
// a cache would to choose the same token. The rounds keep what the draft did beside them.
#include <string>
#include <vector>

#include "core/engine/session/speculative.h"
#include "core/engine/session/trace.h"
#include "core/formats/model_source.h"

namespace kvscope {

struct SpeculativeScript {
  std::string draft_name;
  int draft_tokens = 0;                  // k as asked (the last rounds may guess fewer)
  std::vector<StepTrace> traces;         // step 0: prefill; step r + 1: round r
  std::vector<SpeculativeRound> rounds;  // round r = step r + 1
  std::vector<int> tokens;               // prompt, then every new token
  int prompt_length = 0;
  // Totals after step s (prefill included): target passes, draft passes, guesses and kept guesses,
  // new tokens, and the passes plain cached decoding of the target needs for those tokens.
  struct Totals {
    int target_passes = 0, draft_passes = 0, drafted = 0, accepted = 0, new_tokens = 0, plain_passes = 0;
  };
  std::vector<Totals> totals;  // per step
};

// Greedy; new_tokens >= 1. Throws DataError/UsageError as SpeculativeDecoder does.
SpeculativeScript run_speculative_script(const LoadedModel& target, const LoadedModel& draft,
                                         const std::vector<int>& prompt, int draft_tokens, int new_tokens);

}  // namespace kvscope
