// kvscope-cli speculate: speculative decoding (core/engine/session/speculative.h). A draft guesses k
// tokens, the target checks them in one pass, both caches take back the rows of rejected guesses;
// plain cached decoding of the target runs in the same command for the time and passes it takes.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/kernels/error.h"
#include "core/engine/kernels/random.h"
#include "core/engine/kernels/softmax.h"
#include "core/engine/session/draft_verdict.h"
#include "core/engine/session/sampling.h"
#include "core/engine/session/speculative.h"
#include "core/formats/model_folder.h"
#include "core/formats/trace_json.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

struct SpeculateOptions {
  ModelOptions model;  // the target
  std::string draft = "demo-llama-draft", draft_dir;
  std::string prompt, ids;
  int k = 4;
  int max_new_tokens = 16;
  float temperature = 0.0f;
  std::uint64_t seed = 0;
  int block_size = 0;
  bool json = false;
};

struct PlainRun {
  std::vector<int> tokens;
  double seconds = 0.0;
};

// The target alone, cached: a prefill, then one pass per new token (sampled with its own generator).
PlainRun plain_decode(const Model& model, const std::vector<int>& prompt, int new_tokens, float temperature,
                      std::uint64_t seed) {
  PlainRun run;
  run.tokens = prompt;
  KvCache cache(model.config(), 0);
  ForwardScratch scratch;
  SplitMix64 rng(seed);
  RowVector logits;
  const auto start = std::chrono::steady_clock::now();
  std::vector<int> feed = prompt;
  for (int i = 0; i < new_tokens; ++i) {
    model.forward_cached(feed, cache, 0, logits, nullptr, &scratch);
    const int next = temperature <= 0.0f
                         ? argmax(logits)
                         : draw_index(softmax_double(logits.data(), int(logits.size()), temperature), rng.uniform());
    run.tokens.push_back(next);
    feed = {next};
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

int run_speculate(const SpeculateOptions& o) {
  const LoadedModel target = o.model.load();
  LoadedModel draft = o.draft_dir.empty() ? load_preset(o.draft) : load_model_folder(o.draft_dir);
  draft.model = with_numerics(draft.model, target.model->numerics());  // both compute alike
  const Tokenizer& tokenizer = *target.tokenizer;
  const std::vector<int> prompt = o.ids.empty() ? tokenizer.encode_prompt(o.prompt) : parse_ids(o.ids, "--ids");

  SpeculativeOptions options;
  options.draft_tokens = o.k;
  options.temperature = o.temperature;
  options.seed = o.seed;
  options.block_size = o.block_size;
  SpeculativeDecoder decoder(target.model, draft.model, options);
  decoder.start(prompt, o.max_new_tokens);  // refuses before any work
  const auto start = std::chrono::steady_clock::now();
  decoder.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() +
                         decoder.prefill_seconds();
  const PlainRun plain = plain_decode(*target.model, prompt, o.max_new_tokens, o.temperature, o.seed + 1);

  if (o.json) {
    nlohmann::json rounds = nlohmann::json::array();
    for (const SpeculativeRound& r : decoder.rounds()) rounds.push_back(speculative_round_to_json(r, tokenizer));
    nlohmann::json doc;
    doc["model"] = target.name;
    doc["draft"] = draft.name;
    doc["k"] = o.k;
    doc["temperature"] = o.temperature;
    doc["compute_dtype"] = compute_dtype_name(target.model->numerics().compute);
    doc["paged_block_size"] = o.block_size;
    doc["prompt_tokens"] = prompt.size();
    doc["new_tokens"] = decoder.new_token_count();
    doc["tokens"] = decoder.tokens();
    doc["text"] = tokenizer.decode(decoder.tokens());
    doc["rounds"] = rounds;
    doc["acceptance_rate"] = decoder.acceptance_rate();
    doc["target_passes"] = decoder.target_passes();
    doc["draft_passes"] = decoder.draft_passes();
    doc["plain_passes"] = decoder.plain_passes();
    doc["plain_tokens"] = plain.tokens;
    doc["plain_text"] = tokenizer.decode(plain.tokens);
    doc["seconds"] = seconds;
    doc["plain_seconds"] = plain.seconds;
    std::cout << doc.dump() << "\n";
    return 0;
  }
  std::printf("%-5s %-4s %-40s %-8s %-14s %-14s\n", "round", "pos", "drafted -> kept + target's own", "accepted",
              "target rows", "draft rows");
  int n = 0;
  for (const SpeculativeRound& r : decoder.rounds()) {
    std::string guesses;
    for (std::size_t i = 0; i < r.drafted.size(); ++i)
      guesses += (i ? " " : "") + std::string(int(i) < r.accepted ? "" : "x") + tokenizer.token_text(r.drafted[i]);
    guesses += " -> " + tokenizer.token_text(r.next_id) + (r.corrected ? " (fix)" : " (bonus)");
    const std::string accepted = std::to_string(r.accepted) + "/" + std::to_string(r.drafted.size());
    const std::string t_rows = "+" + std::to_string(r.target_rows_written) + " -" + std::to_string(r.target_rows_rolled_back);
    const std::string d_rows = "+" + std::to_string(r.draft_rows_written) + " -" + std::to_string(r.draft_rows_rolled_back);
    std::printf("%-5d %-4d %-40s %-8s %-14s %-14s\n", n++, r.first_position, guesses.c_str(), accepted.c_str(),
                t_rows.c_str(), d_rows.c_str());
  }
  std::printf("text: %s\n", tokenizer.decode(decoder.tokens()).c_str());
  std::printf("acceptance %.1f%%; target passes %d against %d plain; draft passes %d; %.1f ms against %.1f ms plain\n",
              100.0 * decoder.acceptance_rate(), decoder.target_passes(), decoder.plain_passes(), decoder.draft_passes(),
              seconds * 1e3, plain.seconds * 1e3);
  return 0;
}

void add_speculate_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<SpeculateOptions>();
  CLI::App* cmd = app.add_subcommand("speculate", "speculative decoding: a draft guesses ahead, the target checks, rejected rows are rolled back");
  o->model.add_to(*cmd);
  auto* draft = cmd->add_option("--draft", o->draft, "built-in draft model (default demo-llama-draft); it must share the target's tokenizer");
  cmd->add_option("--draft-model", o->draft_dir, "a Hugging Face folder as the draft")->excludes(draft);
  auto* prompt = cmd->add_option("--prompt", o->prompt, "prompt text");
  auto* ids = cmd->add_option("--ids", o->ids, "prompt as token ids, e.g. 5,17,42");
  prompt->excludes(ids);
  cmd->add_option("--k", o->k, "tokens the draft guesses per round (default 4)")->check(CLI::Range(0, 64));
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "new tokens (default 16)")->check(positive_integer());
  cmd->add_option("--temperature", o->temperature, "0 = greedy (default); > 0 samples with the acceptance rule")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed, "sampling seed");
  cmd->add_option("--block-size", o->block_size, "page both caches in blocks of this many positions (default: contiguous)")
      ->check(positive_integer());
  cmd->add_flag("--json", o->json, "one JSON document instead of a table");
  cmd->callback([o, &run, prompt, ids] {
    if (prompt->count() == 0 && ids->count() == 0) throw CLI::RequiredError("--prompt or --ids");
    run = [o] { return run_speculate(*o); };
  });
}

const CommandRegistrar registrar(11, add_speculate_command);

}  // namespace
}  // namespace kvscope::cli
