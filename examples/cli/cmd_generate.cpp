// kvscope-cli generate: decode with and without a KV cache and print every step's trace.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/error.h"
#include "core/engine/session/session.h"
#include "core/formats/trace_json.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

struct GenerateOptions {
  ModelOptions model;
  std::string prompt, ids, force, force_ids, mode = "both", kv_policy;
  int max_new_tokens = -1;  // -1: as many as the forced continuation has, plus one; else 8
  int window = 0;
  float temperature = 0.0f;
  int top_k = 0;
  std::uint64_t seed = 0;
  bool json = false, logits = false, attention = false;
  bool kv_policy_given = false;  // --kv-policy "" is an error, not "no policy"
};

std::string row_summary(const LayerRecord& l) {
  std::string s = std::to_string(l.computed_rows.size()) + "/" + std::to_string(l.reused_rows.size());
  if (!l.evicted_rows.empty()) s += " -" + std::to_string(l.evicted_rows.size());
  return s;
}

void print_table_header(bool cached, bool uncached, bool policy) {
  std::printf("%-4s %-7s %-4s %-28s", "step", "phase", "pos", "fed -> next");
  if (uncached) std::printf(" %-11s %12s %9s", "unc rows/L", "unc MACs", "unc ms");
  if (cached) std::printf(" %-11s %12s %9s %10s", "kv rows/L", "kv MACs", "kv ms", "cache B");
  if (cached && uncached) std::printf(" %11s", "max|dlogit|");
  if (policy) std::printf(" %5s %10s %9s %4s", "kept", "full B", "KL(full)", "top1");
  std::printf("\n");
}

void print_table_row(const StepTrace& t, const Tokenizer& tokenizer) {
  std::string fed = tokenizer.decode(t.input_ids);
  if (fed.size() > 14) fed = fed.substr(0, 11) + "...";
  const std::string flow = fed + " -> " + t.next_text + (t.forced ? " (forced)" : "");
  std::printf("%-4d %-7s %-4d %-28s", t.step, t.prefill ? "prefill" : "decode", t.newest_position(), flow.c_str());
  if (t.uncached.ran)
    std::printf(" %-11s %12lld %9.3f", row_summary(t.uncached.forward.layers[0]).c_str(),
                (long long)t.uncached.macs(), t.uncached.seconds * 1e3);
  if (t.cached.ran)
    std::printf(" %-11s %12lld %9.3f %10lld", row_summary(t.cached.forward.layers[0]).c_str(),
                (long long)t.cached.macs(), t.cached.seconds * 1e3, (long long)t.cached.cache_bytes);
  if (t.both_ran()) std::printf(" %11.2e", t.max_abs_logit_diff);
  const PolicyTrace& p = t.cached.policy;
  if (p.active)
    std::printf(" %5zu %10lld %9.2e %4s", p.kept_at(0, 0).size(), (long long)p.full_cache_bytes, p.kl_from_full,
                p.top1_agrees ? "=" : "!=");
  std::printf("\n");
}

int run_generate(const GenerateOptions& o) {
  if (o.mode != "both" && o.mode != "cached" && o.mode != "uncached")
    throw UsageError("--mode must be both, cached or uncached, got '" + o.mode + "'");
  std::optional<KvPolicy> policy;
  if (o.kv_policy_given) {
    policy = parse_kv_policy_option(o.kv_policy);
    if (o.mode == "uncached") throw UsageError("--kv-policy applies to the cached mode: not with --mode uncached");
  }
  LoadedModel loaded = o.model.load();
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::vector<int> prompt = o.ids.empty() ? tokenizer.encode_prompt(o.prompt) : parse_ids(o.ids, "--ids");
  const std::vector<int> forced = !o.force_ids.empty() ? parse_ids(o.force_ids, "--force-ids")
                                  : !o.force.empty()   ? tokenizer.encode(o.force)
                                                       : std::vector<int>{};
  const int n_steps = o.max_new_tokens >= 0 ? o.max_new_tokens : (forced.empty() ? 8 : int(forced.size()) + 1);

  SessionOptions options;
  options.window = o.window;
  options.run_cached = o.mode != "uncached";
  options.run_uncached = o.mode != "cached";
  options.record_attention = o.attention;
  options.record_rows = false;
  options.sampling = {o.temperature, o.top_k, o.seed};
  options.kv_policy = policy;
  DecodeSession session(loaded.model, loaded.tokenizer, options);
  session.start(prompt, forced);
  session.check_steps(n_steps);  // refuse before any work

  TraceJsonOptions json_options{o.logits, o.attention};
  nlohmann::json steps = nlohmann::json::array();
  if (!o.json) print_table_header(options.run_cached, options.run_uncached, policy.has_value());
  for (int s = 0; s < n_steps; ++s) {
    const StepTrace& t = session.step();
    if (o.json)
      steps.push_back(step_to_json(t, json_options));
    else
      print_table_row(t, tokenizer);
  }
  const std::vector<int> tokens = session.tokens();
  if (o.json) {
    nlohmann::json doc;
    doc["model"] = loaded.name;
    doc["compute_dtype"] = compute_dtype_name(loaded.model->numerics().compute);
    doc["same_order"] = loaded.model->numerics().same_order;
    // The first step whose two modes disagree on the most likely token (null: none did).
    nlohmann::json parting = nullptr;
    for (const StepTrace& t : session.history())
      if (t.both_ran() && !t.top1_agrees) {
        parting = t.step;
        break;
      }
    doc["first_parting_step"] = parting;
    doc["text"] = tokenizer.decode(tokens);
    doc["tokens"] = tokens;
    doc["steps"] = steps;
    std::cout << doc.dump() << "\n";
  } else {
    std::printf("text: %s\n", tokenizer.decode(tokens).c_str());
  }
  return 0;
}

void add_generate_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "decode step by step with and without a KV cache");
  o->model.add_to(*cmd);
  auto* prompt = cmd->add_option("--prompt", o->prompt, "prompt text");
  auto* ids = cmd->add_option("--ids", o->ids, "prompt as token ids, e.g. 5,17,42");
  prompt->excludes(ids);
  auto* force = cmd->add_option("--force", o->force, "teacher-forced continuation text");
  auto* force_ids = cmd->add_option("--force-ids", o->force_ids, "teacher-forced continuation ids");
  force->excludes(force_ids);
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens to generate (steps to run)")
      ->check(positive_integer());
  cmd->add_option("--mode", o->mode, "both (default), cached or uncached");
  cmd->add_option("--window", o->window, "sliding window of W positions (evicts older cache rows)")
      ->check(positive_integer());
  auto* kv_policy = cmd->add_option("--kv-policy", o->kv_policy,
                  "cache policy for the cached mode, beside a full cache: " + kv_policy_items() +
                      " (one eviction rule plus bits, joined by commas, e.g. sinks:4,window:60)");
  cmd->add_option("--temperature", o->temperature, "0 = greedy (default); > 0 samples")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", o->top_k, "sample among the k most likely tokens")->check(positive_integer());
  cmd->add_option("--seed", o->seed, "sampling seed");
  cmd->add_flag("--json", o->json, "one JSON document instead of a table");
  cmd->add_flag("--logits", o->logits, "with --json: each step's full logits");
  cmd->add_flag("--attention", o->attention, "with --json: attention weights per layer and head");
  cmd->callback([o, &run, prompt, ids, kv_policy] {
    if (prompt->count() == 0 && ids->count() == 0) throw CLI::RequiredError("--prompt or --ids");
    o->kv_policy_given = kv_policy->count() > 0;
    run = [o] { return run_generate(*o); };
  });
}

const CommandRegistrar registrar(10, add_generate_command);

}  // namespace
}  // namespace kvscope::cli
