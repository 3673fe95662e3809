#pragma once
// The JSON form of traces, shared by kvscope-cli and exports.
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/session/speculative.h"
#include "core/engine/session/tokenizer.h"
#include "core/engine/session/trace.h"

namespace kvscope {

struct TraceJsonOptions {
  bool logits = false;     // full-vocabulary logits that chose next_id
  bool attention = false;  // per layer, per head attention rows
};

// The cached side's "policy" object: spec, kept/evicted/heavy positions per layer (and per KV head with
// heavy hitters), sinks, bytes, divergence from the full cache and errors of the rows read.
nlohmann::json policy_to_json(const PolicyTrace& policy, int n_layer);
nlohmann::json mode_to_json(const ModeTrace& mode, const TraceJsonOptions& options);
nlohmann::json step_to_json(const StepTrace& step, const TraceJsonOptions& options);
// One speculative round (kvscope-cli speculate's "rounds", a lesson's "speculative_round"): what was
// drafted and kept, each guess's probabilities, and the rows each cache wrote and rolled back.
nlohmann::json speculative_round_to_json(const SpeculativeRound& round, const Tokenizer& tokenizer);

}  // namespace kvscope
