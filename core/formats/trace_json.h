#pragma once
// The JSON form of traces, shared by kvscope-cli and exports.
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/trace.h"

namespace kvscope {

struct TraceJsonOptions {
  bool logits = false;     // full-vocabulary logits that chose next_id
  bool attention = false;  // per layer, per head attention rows
};

nlohmann::json mode_to_json(const ModeTrace& mode, const TraceJsonOptions& options);
nlohmann::json step_to_json(const StepTrace& step, const TraceJsonOptions& options);

}  // namespace kvscope
