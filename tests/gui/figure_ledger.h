#pragma once
// The figure-ledger check, written apart from the window so it can be tested on planted mistakes:
// every number in a drawn text must lie in the text of a figure the same panel declared, and every
// declared figure with a counterpart in the lesson's trace (kvscope-cli lesson NAME --json) must equal it.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvscope::test {

// The numbers in a drawn text, as [begin, end) byte ranges: "t=4", "1,280 B", "3.6e-07", "0–3" (two).
// A digit run glued to a letter on its left ("fp32", "L2", "F11", "GPT-2") is part of a name, not a number.
std::vector<std::pair<std::size_t, std::size_t>> numbers_in(const std::string& text);

// One line per number in state["texts"] that no figure of its panel covers.
std::vector<std::string> uncovered_numbers(const nlohmann::json& state);

// One line per figure in state["figures"] that disagrees with the trace: `lesson` is the whole
// `kvscope-cli lesson NAME --json` document, `step` the step the frame shows.
std::vector<std::string> figures_against_trace(const nlohmann::json& state, const nlohmann::json& lesson, int step);

}  // namespace kvscope::test
