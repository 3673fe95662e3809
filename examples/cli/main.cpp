// kvscope-cli: decode, tokenize, benchmark and train from the terminal.
// Exit status: 0 success, 1 bad data, 2 bad usage; errors are one line on stderr.
#include <algorithm>
#include <iostream>
#include <string>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/isa.h"
#include "examples/cli/commands.h"

namespace kvscope::cli {
std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}
}  // namespace kvscope::cli

int main(int argc, char** argv) {
  CLI::App app{"kvscope-cli: watch a KV cache at work, step by step, from the terminal"};
  app.require_subcommand(1);
  kvscope::cli::Runner run;
  auto& registry = kvscope::cli::command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& entry : registry) entry.add(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::string known;
      for (const CLI::App* sub : app.get_subcommands({})) known += (known.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "kvscope-cli: unknown subcommand '" << argv[1] << "' (known: " << known << ")\n";
      return 2;
    }
    std::cerr << "kvscope-cli: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    kvscope::active_kernels();  // a bad KVSCOPE_ISA is refused before any work
    return run ? run() : 2;
  } catch (const kvscope::UsageError& e) {
    std::cerr << "kvscope-cli: " << e.what() << "\n";
    return 2;
  } catch (const kvscope::DataError& e) {
    std::cerr << "kvscope-cli: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "kvscope-cli: out of memory\n";
    return 1;
  }
}
