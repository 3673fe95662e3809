// kvscope-cli tokenize: text -> token ids, from a model folder, a Hugging Face tokenizer.json, or
// GPT-2's vocab.json + merges.txt.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/engine/kernels/error.h"
#include "core/formats/model_folder.h"
#include "core/tokenizers/bpe_tokenizer.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "examples/cli/commands.h"

namespace kvscope::cli {

namespace {

struct TokenizeOptions {
  std::string model_dir, tokenizer_json, vocab, merges, text;
  bool json = false, add_special = false;
};

std::vector<int> tokenize(const TokenizeOptions& o, const Tokenizer& tokenizer) {
  if (!o.add_special) return tokenizer.encode(o.text);
  const auto* hf = dynamic_cast<const HfTokenizer*>(&tokenizer);
  if (!hf) throw UsageError("--add-special: only a tokenizer.json declares special tokens to add");
  return hf->encode_with_special(o.text);
}

int run_tokenize(const TokenizeOptions& o) {
  std::shared_ptr<const Tokenizer> tokenizer;
  if (!o.tokenizer_json.empty())
    tokenizer = std::make_shared<HfTokenizer>(HfTokenizer::from_file(o.tokenizer_json));
  else if (!o.model_dir.empty())
    tokenizer = load_folder_tokenizer(o.model_dir);
  else
    tokenizer = std::make_shared<BpeTokenizer>(BpeTokenizer::from_files(o.vocab, o.merges));
  const std::vector<int> ids = tokenize(o, *tokenizer);
  if (o.json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (int id : ids) tokens.push_back(tokenizer->token_text(id));
    // A GPT-2 token can be part of a UTF-8 character: such bytes print as U+FFFD rather than throw.
    std::cout << nlohmann::json{{"ids", ids}, {"tokens", tokens}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::string line;
    for (int id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
    std::cout << line << "\n";
  }
  return 0;
}

void add_tokenize_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "print the token ids of a text (use -- before text that starts with -)");
  auto* model = cmd->add_option("--model", o->model_dir, "model folder (its tokenizer.json, vocab.json + merges.txt or vocab.txt)");
  auto* file = cmd->add_option("--tokenizer", o->tokenizer_json, "Hugging Face tokenizer.json (byte-level BPE: Llama 3, Qwen, SmolLM2)");
  auto* vocab = cmd->add_option("--vocab", o->vocab, "GPT-2 vocab.json (with --merges)");
  auto* merges = cmd->add_option("--merges", o->merges, "GPT-2 merges.txt (with --vocab)");
  model->excludes(file)->excludes(vocab)->excludes(merges);
  file->excludes(vocab)->excludes(merges);
  vocab->needs(merges);
  merges->needs(vocab);
  cmd->add_flag("--json", o->json, "print {\"ids\": [...], \"tokens\": [...]}");
  cmd->add_flag("--add-special", o->add_special, "add the special tokens the tokenizer.json's post-processor adds (a BOS)");
  cmd->add_option("text", o->text, "the text to tokenise")->required();
  cmd->callback([o, &run, model, file, vocab] {
    if (model->count() == 0 && file->count() == 0 && vocab->count() == 0)
      throw CLI::RequiredError("--model, --tokenizer, or --vocab with --merges");
    run = [o] { return run_tokenize(*o); };
  });
}

const CommandRegistrar registrar(20, add_tokenize_command);

}  // namespace
}  // namespace kvscope::cli
