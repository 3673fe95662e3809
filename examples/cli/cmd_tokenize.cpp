// kvscope-cli tokenize: text -> GPT-2 token ids, from a model folder or from vocab.json + merges.txt.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/bpe_tokenizer.h"
#include "core/model_folder.h"
#include "examples/cli/commands.h"

namespace kvscope::cli {

namespace {

struct TokenizeOptions {
  std::string model_dir, vocab, merges, text;
  bool json = false;
};

int run_tokenize(const TokenizeOptions& o) {
  std::shared_ptr<const Tokenizer> tokenizer =
      o.model_dir.empty() ? std::make_shared<BpeTokenizer>(BpeTokenizer::from_files(o.vocab, o.merges))
                          : load_folder_tokenizer(o.model_dir);
  const std::vector<int> ids = tokenizer->encode(o.text);
  if (o.json) {
    std::cout << nlohmann::json(ids).dump() << "\n";
    return 0;
  }
  std::string line;
  for (int id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::cout << line << "\n";
  return 0;
}

void add_tokenize_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "print the token ids of a text (use -- before text that starts with -)");
  auto* model = cmd->add_option("--model", o->model_dir, "model folder (its vocab.json + merges.txt or vocab.txt)");
  auto* vocab = cmd->add_option("--vocab", o->vocab, "GPT-2 vocab.json (with --merges)");
  auto* merges = cmd->add_option("--merges", o->merges, "GPT-2 merges.txt (with --vocab)");
  model->excludes(vocab)->excludes(merges);
  vocab->needs(merges);
  merges->needs(vocab);
  cmd->add_flag("--json", o->json, "print a JSON array instead of space-separated ids");
  cmd->add_option("text", o->text, "the text to tokenise")->required();
  cmd->callback([o, &run, model, vocab] {
    if (model->count() == 0 && vocab->count() == 0) throw CLI::RequiredError("--model or --vocab with --merges");
    run = [o] { return run_tokenize(*o); };
  });
}

const CommandRegistrar registrar(20, add_tokenize_command);

}  // namespace
}  // namespace kvscope::cli
