#pragma once
// Each kvscope-cli subcommand lives in its own cmd_*.cpp and registers itself with a static
// CommandRegistrar; its add function creates the subcommand and, in the subcommand's callback,
// sets `run` to the work to do after parsing. run returns the exit status; core errors thrown
// from it are mapped to statuses 1 (DataError) and 2 (UsageError) in main.cpp.
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace kvscope::cli {

using Runner = std::function<int()>;
using AddCommand = void (*)(CLI::App& app, Runner& run);

struct CommandEntry {
  int order;  // position in --help
  AddCommand add;
};

std::vector<CommandEntry>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(int order, AddCommand add) { command_registry().push_back({order, add}); }
};

}  // namespace kvscope::cli
