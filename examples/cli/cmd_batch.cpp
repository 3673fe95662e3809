// kvscope-cli batch: several prompts decoded in turn over one paged KV cache; every round's block
// tables, reference counts, memory ledger and block events.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "core/engine/session/batch_session.h"
#include "core/engine/kernels/error.h"
#include "core/formats/batch_json.h"
#include "core/formats/prompts_file.h"
#include "core/lessons/lesson_run.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

struct BatchCliOptions {
  ModelOptions model;
  std::string prompts_path;
  int max_new_tokens = 8;
  int block_size = 16;
  int pool_blocks = 0;  // 0: enough for every sequence without sharing
  bool no_sharing = false, json = false, logits = false;
};

// "alloc 3,4 share 0x2 cow 5<-2 free 7": a round's events, short.
std::string events_summary(const BatchRound& round) {
  std::string s;
  for (const BlockEvent& e : round.events) {
    std::string item;
    const std::string seq = "s" + std::to_string(e.sequence);
    switch (e.kind) {
      case BlockEventKind::Join: item = seq + " join(" + std::to_string(e.position) + " shared)"; break;
      case BlockEventKind::Allocate: item = seq + "+" + std::to_string(e.block); break;
      case BlockEventKind::Share: item = seq + "=" + std::to_string(e.block) + "(x" + std::to_string(e.count) + ")"; break;
      case BlockEventKind::CopyOnWrite: item = seq + " cow " + std::to_string(e.other) + "->" + std::to_string(e.block); break;
      case BlockEventKind::Release: item = seq + "-" + std::to_string(e.block) + "(x" + std::to_string(e.count) + ")"; break;
      case BlockEventKind::Free: item = seq + " free " + std::to_string(e.block); break;
      case BlockEventKind::Fork: item = seq + " fork of s" + std::to_string(e.other); break;
      case BlockEventKind::Truncate: item = seq + " keep " + std::to_string(e.position); break;
      case BlockEventKind::Edit: item = seq + " edit @" + std::to_string(e.position); break;
      case BlockEventKind::Finish: item = seq + " finish"; break;
    }
    s += (s.empty() ? "" : " ") + item;
  }
  return s;
}

std::string tables_text(const BatchRound& round) {
  std::string s;
  for (const SequenceRound& q : round.sequences) {
    s += s.empty() ? "[" : " [";
    for (std::size_t i = 0; i < q.block_table.size(); ++i) s += (i ? "," : "") + std::to_string(q.block_table[i]);
    s += "]";
  }
  return s;
}

// Every prompt as ids, each refused with its file and line.
std::vector<std::vector<int>> encode_prompts(const std::vector<PromptLine>& lines, const Tokenizer& tokenizer,
                                             const std::string& path) {
  std::vector<std::vector<int>> prompts;
  for (const PromptLine& line : lines)
    prompts.push_back(encode_text(tokenizer, line.text, path + " line " + std::to_string(line.line), TextRole::Prompt));
  return prompts;
}

int run_batch(const BatchCliOptions& o) {
  const std::vector<PromptLine> lines = load_prompts_file(o.prompts_path);
  LoadedModel loaded = o.model.load();
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::vector<std::vector<int>> prompts = encode_prompts(lines, tokenizer, o.prompts_path);

  BatchOptions options;
  options.block_size = o.block_size;
  options.share_prefixes = !o.no_sharing;
  // Without a bound: what every sequence needs at its longest with nothing shared.
  for (const std::vector<int>& p : prompts) options.pool_blocks += blocks_without_sharing(int(p.size()), o.max_new_tokens, o.block_size);
  if (o.pool_blocks > 0) options.pool_blocks = o.pool_blocks;
  BatchSession session(loaded.model, options);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    try {
      session.add_sequence(prompts[i], o.max_new_tokens);
    } catch (const DataError& e) {
      throw DataError(o.prompts_path + " line " + std::to_string(lines[i].line) + ": " + e.what());
    }
  }

  nlohmann::json steps = nlohmann::json::array();
  std::ostringstream table;  // printed only once every round has run: nothing half-written
  char row[160];
  std::snprintf(row, sizeof row, "%-5s %6s %6s %5s %9s %9s %6s  %s\n", "round", "in use", "shared", "free",
                "rows used", "allocated", "wasted", "block tables | events");
  table << row;
  try {
    while (session.can_step()) {
      const BatchRound& r = session.step();
      if (o.json) {
        steps.push_back(batch_round_to_json(r, o.logits));
        continue;
      }
      const PoolLedger& l = r.ledger;
      std::snprintf(row, sizeof row, "%-5d %6d %6d %5d %9lld %9lld %6lld  ", r.round, l.blocks_in_use, l.blocks_shared,
                    l.blocks_free, (long long)l.rows_used, (long long)l.rows_allocated, (long long)l.rows_wasted);
      table << row << tables_text(r) << " | " << events_summary(r) << "\n";
    }
  } catch (const PoolFullError& e) {
    throw UsageError("--pool-blocks " + std::to_string(options.pool_blocks) + ": " + e.what());
  }

  if (o.json) {
    nlohmann::json doc;
    doc["model"] = loaded.name;
    doc["block_size"] = options.block_size;
    doc["pool_blocks"] = options.pool_blocks;
    doc["prefix_sharing"] = options.share_prefixes;
    doc["bytes_per_row"] = session.pool().bytes_per_row();
    doc["contiguous_length"] = session.options().contiguous_length;
    nlohmann::json sequences = nlohmann::json::array();
    for (int s = 0; s < session.n_sequences(); ++s) {
      nlohmann::json q;
      q["prompt_ids"] = session.prompt(s);
      q["tokens"] = session.tokens(s);
      q["text"] = tokenizer.decode(session.tokens(s));
      sequences.push_back(q);
    }
    doc["sequences"] = sequences;
    doc["steps"] = steps;
    std::cout << doc.dump() << "\n";
  } else {
    std::cout << table.str();
    for (int s = 0; s < session.n_sequences(); ++s)
      std::printf("sequence %d: %s\n", s, tokenizer.decode(session.tokens(s)).c_str());
  }
  return 0;
}

void add_batch_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<BatchCliOptions>();
  CLI::App* cmd = app.add_subcommand("batch", "several prompts over one paged KV cache: blocks, sharing, ledger");
  o->model.add_to(*cmd);
  cmd->add_option("--prompts", o->prompts_path, "text file, one prompt per line")->required();
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens to generate per prompt (default 8)")
      ->check(positive_integer());
  cmd->add_option("--block-size", o->block_size, "positions per block (default 16)")->check(positive_integer());
  cmd->add_option("--pool-blocks", o->pool_blocks, "blocks in the pool (default: enough with nothing shared)")
      ->check(positive_integer());
  cmd->add_flag("--no-prefix-sharing", o->no_sharing, "every sequence computes its own prompt");
  cmd->add_flag("--json", o->json, "one JSON document instead of a table");
  cmd->add_flag("--logits", o->logits, "with --json: each sequence's logits every round");
  cmd->callback([o, &run] { run = [o] { return run_batch(*o); }; });
}

const CommandRegistrar registrar(12, add_batch_command);

}  // namespace
}  // namespace kvscope::cli
