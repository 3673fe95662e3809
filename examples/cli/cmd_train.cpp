// kvscope-cli train: teach a small model a corpus (one sentence per line) and write a model folder that
// --model opens: a GPT-2 with the corpus's words as vocabulary, or (--family llama) a Llama-style model
// (RoPE, grouped-query attention or, with --kv-lora-rank, multi-head latent attention, RMSNorm, SwiGLU)
// over a byte-level BPE tokenizer.json (--tokenizer).
// Progress (step, loss, elapsed) goes to stderr, the summary to stdout.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/engine/model/config.h"
#include "core/engine/model/weights.h"
#include "core/train/corpus.h"
#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"
#include "core/formats/model_folder_writer.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "core/train/train.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

struct TrainCommandOptions {
  std::string corpus, out, tokenizer;
  std::string family = "gpt2";
  int kv_heads = 0;  // 0: one per head
  int d_ff = 0;      // 0: the family's default
  int kv_lora_rank = 0;  // > 0: multi-head latent attention with this latent width (llama)
  int rope_dim = 0;      // MLA: rotary dims per head (0: half the head)
  ModelConfig shape = preset_config("demo");  // vocab_size comes from the corpus or the tokenizer
  TrainOptions train;
  int log_every = 100;
  bool overwrite = false;
};

// Rejects a bad shape before any work (vocab_size is not known yet, so a stand-in is used).
void check_shape(ModelConfig shape) {
  shape.vocab_size = 1;
  validate(shape);
}

// How the model was made, kept in config.json (no wall time: retraining gives the same file).
nlohmann::json training_record(const TrainCommandOptions& o, const Corpus& corpus, double mean_loss) {
  char lr[32];
  std::snprintf(lr, sizeof lr, "%.7g", double(o.train.learning_rate));
  nlohmann::json j;
  j["corpus"] = o.corpus;
  j["sentences"] = corpus.sequences.size();
  j["words"] = corpus.word_count;
  j["steps"] = o.train.steps;
  j["batch_size"] = o.train.batch_size;
  j["learning_rate"] = std::strtod(lr, nullptr);
  j["seed"] = o.train.seed;
  j["mean_loss"] = mean_loss;
  return nlohmann::json{{"kvscope_training", j}};
}

// Accepts a number > 0 ("--lr: must be a positive number, got '-1'").
CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        char* end = nullptr;
        const double x = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !(x > 0.0) || !std::isfinite(x))
          return "must be a positive number, got '" + value + "'";
        return "";
      },
      "POSITIVE");
}

// The shape asked for: GPT-2 as the demo, or a Llama without biases or q/k norms and a tied head.
ModelConfig model_shape(const TrainCommandOptions& o) {
  ModelConfig c = o.shape;
  const FamilyTraits* family = family_by_name(o.family.c_str());
  if (!family || !trainer_implements(*family)) throw UsageError("--family must be gpt2 or llama, got '" + o.family + "'");
  c.family = family->family;
  if (family->qkv == QkvLayout::Separate) {  // Llama: no biases
    c.qkv_bias = c.out_bias = c.mlp_bias = false;
    c.layer_norm_eps = 1e-6f;
  }
  c.n_kv_head = o.kv_heads;
  c.ff_dim = o.d_ff;
  const bool separate_qkv = c.traits().qkv == QkvLayout::Separate;
  if (!separate_qkv && o.kv_heads > 0 && o.kv_heads != c.n_head)
    throw UsageError("--kv-heads: GPT-2 has one K/V head per head (use --family llama)");
  if (o.kv_lora_rank > 0 && !c.traits().latent_attention) throw UsageError("--kv-lora-rank needs --family llama");
  if (o.rope_dim > 0 && o.kv_lora_rank == 0) throw UsageError("--rope-dim needs --kv-lora-rank (multi-head latent attention)");
  c.kv_lora_rank = o.kv_lora_rank;
  if (c.mla()) c.qk_rope_dim = o.rope_dim > 0 ? o.rope_dim : c.d_head() / 2;
  if (separate_qkv != !o.tokenizer.empty())
    throw UsageError(separate_qkv ? "--family llama needs --tokenizer (a byte-level BPE tokenizer.json)"
                                                    : "--tokenizer: the GPT-2 trainer uses the corpus's words");
  return c;
}

int run_train(const TrainCommandOptions& o) {
  ModelConfig config = model_shape(o);
  check_shape(config);
  check_save_target(o.out, o.overwrite);  // refuse before training, not after
  const Corpus corpus = read_corpus(o.corpus);
  std::vector<std::vector<int>> sequences = corpus.sequences;
  std::string tokenizer_text;
  if (!o.tokenizer.empty()) {  // subwords: every line through the BPE tokenizer
    tokenizer_text = read_text_file(o.tokenizer, "the tokenizer");
    const HfTokenizer tokenizer = HfTokenizer::from_file(o.tokenizer);
    sequences.clear();
    for (const std::string& line : corpus.lines) sequences.push_back(tokenizer.encode(line));
    config.vocab_size = tokenizer.vocab_size();
  } else {
    config.vocab_size = int(corpus.vocabulary.size());
  }
  Trainer trainer(config, sequences, o.train);
  std::fprintf(stderr, "corpus %s: %zu sentences, %d words, vocabulary %d; model %lld parameters, %zu examples\n",
               o.corpus.c_str(), corpus.sequences.size(), corpus.word_count, config.vocab_size,
               (long long)parameter_count(config), trainer.examples().size());

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&start] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double loss_since_log = 0.0;
  int steps_since_log = 0;
  for (int s = 1; s <= o.train.steps; ++s) {
    loss_since_log += trainer.step();
    ++steps_since_log;
    if (s % o.log_every == 0 || s == o.train.steps) {
      std::fprintf(stderr, "step %5d/%d  loss %.4f  lr %.2e  %.1f s\n", s, o.train.steps,
                   loss_since_log / steps_since_log, trainer.learning_rate(s - 1), elapsed());
      loss_since_log = 0.0;
      steps_since_log = 0;
    }
  }
  const double mean_loss = trainer.mean_loss();
  const double seconds = elapsed();

  SaveFolderOptions save;
  save.replace_existing = o.overwrite;
  save.extra_config = training_record(o, corpus, mean_loss);
  save.tokenizer_json = tokenizer_text;
  save_model_folder(o.out, config, trainer.weights(), corpus.vocabulary, save);
  std::printf("wrote %s: mean loss over the corpus %.4f nats/token after %d steps, %.1f s\n", o.out.c_str(),
              mean_loss, o.train.steps, seconds);
  return 0;
}

void add_train_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TrainCommandOptions>();
  o->train.steps = 1500;
  CLI::App* cmd = app.add_subcommand("train", "train a small word-level model on a corpus and write a model folder");
  cmd->add_option("--corpus", o->corpus, "text file, one sentence per line ('#' starts a comment line)")->required();
  cmd->add_option("--out", o->out, "model folder to write (config.json, model.safetensors, vocab.txt)")->required();
  cmd->add_flag("--overwrite", o->overwrite, "replace the model folder at --out if there is one");
  cmd->add_option("--steps", o->train.steps, "optimiser steps (default 1500)")->check(positive_integer());
  cmd->add_option("--seed", o->train.seed, "seed of the initial weights and batch order (default 1)");
  cmd->add_option("--batch-size", o->train.batch_size, "sentences per step (default 16)")->check(positive_integer());
  cmd->add_option("--lr", o->train.learning_rate, "peak learning rate (default 3e-3)")->check(positive_number());
  cmd->add_option("--threads", o->train.n_threads, "worker threads (default: all cores, at most 4)")
      ->check(positive_integer());
  cmd->add_option("--log-every", o->log_every, "steps between progress lines (default 100)")->check(positive_integer());
  cmd->add_option("--d-model", o->shape.d_model, "width (default 64, as the demo)")->check(positive_integer());
  cmd->add_option("--n-head", o->shape.n_head, "attention heads (default 4)")->check(positive_integer());
  cmd->add_option("--n-layer", o->shape.n_layer, "blocks (default 2)")->check(positive_integer());
  cmd->add_option("--context", o->shape.context_length, "context length in tokens (default 32)")
      ->check(positive_integer());
  cmd->add_option("--family", o->family, "gpt2 (default: words as tokens, learned positions) or llama (RoPE, GQA, "
                                         "RMSNorm, SwiGLU; needs --tokenizer)");
  cmd->add_option("--kv-heads", o->kv_heads, "K/V heads, dividing --n-head (llama; default: one per head)")
      ->check(positive_integer());
  cmd->add_option("--kv-lora-rank", o->kv_lora_rank, "multi-head latent attention: the cached latent row's width "
                                                     "(llama; K and V rebuilt from it each step)")->check(positive_integer());
  cmd->add_option("--rope-dim", o->rope_dim, "MLA: rotary dims of each head, cached as one shared key (default: half "
                                             "the head)")->check(positive_integer());
  cmd->add_option("--d-ff", o->d_ff, "MLP width (default: 4 d-model)")->check(positive_integer());
  cmd->add_option("--tokenizer", o->tokenizer, "byte-level BPE tokenizer.json for --family llama (train-tokenizer writes one)");
  cmd->callback([o, &run] { run = [o] { return run_train(*o); }; });
}

const CommandRegistrar registrar(50, add_train_command);

}  // namespace
}  // namespace kvscope::cli
