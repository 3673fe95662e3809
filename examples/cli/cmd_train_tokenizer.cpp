// kvscope-cli train-tokenizer: learn byte-level BPE merges from a corpus (one sentence per line) and
// write DIR/tokenizer.json in the Hugging Face format, which --tokenizer and transformers open.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/train/bpe_trainer.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

namespace fs = std::filesystem;

struct TrainTokenizerOptions {
  std::string corpus, out;
  BpeTrainOptions bpe;
  bool overwrite = false;
};

// Refuses before training. A folder that already holds files needs --overwrite, which replaces
// tokenizer.json only: nothing else in the folder is touched.
void check_out_dir(const fs::path& dir, bool overwrite) {
  std::error_code error;
  for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, error)) {
      if (!fs::is_directory(p, error)) throw UsageError(p.string() + " is not a folder, so " + dir.string() + " cannot be made");
      break;
    }
    if (p == p.root_path()) break;
  }
  if (!fs::exists(dir, error)) return;
  if (!fs::is_directory(dir, error)) throw UsageError(dir.string() + " exists and is not a folder");
  if (overwrite || fs::is_empty(dir, error)) return;
  if (fs::exists(dir / "tokenizer.json", error))
    throw UsageError((dir / "tokenizer.json").string() + " already exists (replace it with --overwrite)");
  throw UsageError(dir.string() + " already holds files (write tokenizer.json among them with --overwrite)");
}

int run_train_tokenizer(const TrainTokenizerOptions& o) {
  fs::path dir = fs::path(o.out).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "out/" -> "out"
  if (dir.empty()) throw UsageError("--out '" + o.out + "' is not a folder name");
  check_out_dir(dir, o.overwrite);
  const TrainedBpe bpe = train_bpe_file(o.corpus, o.bpe);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw DataError(dir.string() + ": cannot create the folder: " + error.message());
  const std::string path = (dir / "tokenizer.json").string();
  write_tokenizer_json(path, bpe);
  std::printf("wrote %s: %d tokens (%zu special, 256 bytes, %zu merges)\n", path.c_str(), bpe.vocab_size(),
              bpe.special_tokens.size(), bpe.merges.size());
  if (bpe.vocab_size() < o.bpe.vocab_size)
    std::printf("stopped below --vocab-size %d: no pair of tokens occurs twice in the corpus any more\n", o.bpe.vocab_size);
  std::printf("corpus %s: %lld words -> %lld tokens, %.3f tokens per word\n", o.corpus.c_str(), bpe.corpus_words,
              bpe.corpus_tokens, bpe.corpus_words > 0 ? double(bpe.corpus_tokens) / double(bpe.corpus_words) : 0.0);
  return 0;
}

void add_train_tokenizer_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TrainTokenizerOptions>();
  CLI::App* cmd = app.add_subcommand("train-tokenizer", "learn byte-level BPE from a corpus and write a tokenizer.json");
  cmd->add_option("--corpus", o->corpus, "text file, one sentence per line ('#' starts a comment line)")->required();
  cmd->add_option("--vocab-size", o->bpe.vocab_size, "tokens at most: special tokens + 256 bytes + merges")
      ->required()
      ->check(positive_integer());
  cmd->add_option("--out", o->out, "folder to write tokenizer.json into (made if missing)")->required();
  cmd->add_option("--special", o->bpe.special_tokens, "special token, e.g. '<|endoftext|>' (repeatable; ids 0, 1, ...)");
  cmd->add_flag("--overwrite", o->overwrite, "write into a folder that already holds files (replaces tokenizer.json only)");
  cmd->callback([o, &run] { run = [o] { return run_train_tokenizer(*o); }; });
}

const CommandRegistrar registrar(55, add_train_tokenizer_command);

}  // namespace
}  // namespace kvscope::cli
