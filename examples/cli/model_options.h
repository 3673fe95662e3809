#pragma once
// --preset / --model and prompt options shared by the subcommands that load a model.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/formats/model_source.h"

namespace kvscope::cli {

struct ModelOptions {
  std::string preset = "demo";
  std::string model_dir;
  std::string compute_dtype = "f32";  // --compute-dtype: every operation's output rounded to it
  bool same_order = false;            // --same-order: matrix products row by row, as decode runs them
  void add_to(CLI::App& command);
  LoadedModel load() const;  // in the numerics the options name
};

// Accepts integers >= 1 with a short message ("--window: must be a positive integer, got 0").
CLI::Validator positive_integer();

// "5,17,42" or "5 17 42" -> ids. Throws UsageError naming the option for anything else.
std::vector<int> parse_ids(const std::string& text, const std::string& option_name);

}  // namespace kvscope::cli
