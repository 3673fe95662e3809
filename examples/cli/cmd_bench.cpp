// kvscope-cli bench: decode speed with and without a KV cache, against the machine's two ceilings.
// Cached decode must stream every weight once per token, so bytes per token / bandwidth is the
// fastest a step can be; the bench reports how close it gets. Uncached decode re-runs the sequence,
// so it is compute that bounds it: its multiply-adds per second against the FLOP probe's peak.
#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/cache/policy_cache.h"
#include "core/engine/forward/numerics.h"
#include "core/engine/session/sampling.h"
#include "core/engine/kernels/error.h"
#include "core/engine/kernels/isa.h"
#include "core/engine/kernels/linear.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"
#include "examples/cli/bandwidth_probe.h"
#include "examples/cli/commands.h"
#include "examples/cli/flop_probe.h"
#include "examples/cli/model_options.h"
#include "examples/cli/peak_rss.h"

namespace kvscope::cli {

namespace {

struct BenchOptions {
  ModelOptions model;
  int prompt_len = 4, new_tokens = 200, threads = 0, probe_mb = 256;
  std::string mode = "both";
  std::string weights_dtype;  // empty: as the model holds them
  std::string against;        // a second model folder, timed in the same process (cached decode)
  int rounds = 3;
  std::vector<int> contexts;  // --contexts: a sweep of prompt lengths, cached decode at each
  std::vector<std::string> kv_policies;  // --kv-policy, repeatable (the sweep): each a cache beside the others
  std::vector<std::string> kv_dtypes;    // --kv-dtype f32,f16,bf16 (the sweep): the full cache's row dtypes
  bool json = false;
};

// One cache a sweep times: a policy-managed cache, or the plain cache with rows in `dtype`.
struct CacheChoice {
  KvPolicy policy;
  WeightDtype dtype = WeightDtype::F32;
};

struct ModeTiming {
  double total_seconds = 0, first_step_ms = 0, last_step_ms = 0, prefill_ms = 0;
  double prefill_multiply_adds = 0;  // the prefill's closed-form count (cached runs)
  double cache_bytes_read = 0;       // cached runs: what the cache held at each decode step, summed over steps
  double cache_bytes_end = 0;        // cached runs: what it holds at the end
  double multiply_adds = 0;  // of the decode steps timed in total_seconds (uncached only)
  int tokens = 0;
  double tokens_per_second() const { return tokens / total_seconds; }
};

double elapsed(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void progress(const char* mode, int step, int total) {
  std::fprintf(stderr, "\rbench: %s step %d/%d   ", mode, step, total);
  std::fflush(stderr);
}

// A long prompt is fed this many tokens at a time (llama.cpp's default batch; its micro-batch is 512):
// each call's activations ([tokens, d_ff] and the like) stay tens of MiB, so peak memory is the weights
// and the cache. 2,048 rather than 512: every call packs each weight panel and gathers every key
// afresh; an 8,160-token prefill took 15.7-17.5 s at 2,048 a call, 17.3-20.7 s at 512 (alternated).
constexpr std::size_t kPrefillChunk = 2048;

// The cache a cached run fills, reserved for the whole run: the plain one, or a policy's (which evicts
// after every call, as the session does; its storage is indexed by position, so it holds the whole run's
// rows allocated whatever it evicts).
std::unique_ptr<KvRows> make_cache(const ModelConfig& c, const CacheChoice& choice, int positions) {
  if (!choice.policy.full()) {
    auto cache = std::make_unique<PolicyKvCache>(c, choice.policy);
    cache->reserve(positions);
    return cache;
  }
  auto cache = std::make_unique<KvCache>(c, 0, choice.dtype);
  cache->reserve(positions);
  return cache;
}

void evict_if_policy(KvRows& cache) {
  if (auto* policy = dynamic_cast<PolicyKvCache*>(&cache); policy && policy->policy().evicts()) policy->evict(nullptr);
}

// Prefill, then new_tokens - 1 decode steps; fills `tokens` with the prompt and the greedy tokens.
ModeTiming run_cached(const Model& model, std::vector<int>& tokens, int new_tokens, const CacheChoice& choice = {}) {
  const std::unique_ptr<KvRows> owned = make_cache(model.config(), choice, int(tokens.size()) + new_tokens);
  KvRows& cache = *owned;
  ForwardScratch scratch;
  RowVector logits;
  ModeTiming timing;
  ForwardRecord record;  // counters only: its closed-form multiply-adds (no attention maps, no rows)
  record.with_attention = record.with_rows = false;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t begin = 0; begin < tokens.size(); begin += kPrefillChunk) {
    const std::size_t end = std::min(tokens.size(), begin + kPrefillChunk);
    model.forward_cached(std::vector<int>(tokens.begin() + std::ptrdiff_t(begin), tokens.begin() + std::ptrdiff_t(end)),
                         cache, 0, logits, &record, &scratch);
    evict_if_policy(cache);
    timing.prefill_multiply_adds += double(record.total_macs());
  }
  scratch = ForwardScratch();  // the prompt's buffers, not a decode step's
  timing.prefill_ms = elapsed(start) * 1e3;
  tokens.push_back(argmax(logits));
  const auto decode_start = std::chrono::steady_clock::now();
  double counting_seconds = 0;
  for (int s = 1; s < new_tokens; ++s) {
    progress("cached", s + 1, new_tokens);
    start = std::chrono::steady_clock::now();
    model.forward_cached({tokens.back()}, cache, 0, logits, nullptr, &scratch);
    double ms = elapsed(start) * 1e3;
    // The rows this step read, its own included: outside the timing (a policy counts them position by
    // position, every layer and KV head); its eviction, which the session also pays, inside.
    const auto count_start = std::chrono::steady_clock::now();
    timing.cache_bytes_read += double(cache.bytes_held());
    counting_seconds += elapsed(count_start);
    const auto evict_start = std::chrono::steady_clock::now();
    evict_if_policy(cache);
    ms += elapsed(evict_start) * 1e3;
    if (s == 1) timing.first_step_ms = ms;
    timing.last_step_ms = ms;
    tokens.push_back(argmax(logits));
  }
  timing.total_seconds = elapsed(decode_start) - counting_seconds;
  timing.tokens = new_tokens - 1;
  timing.cache_bytes_end = double(cache.bytes_held());
  return timing;
}

// Every step re-runs the whole sequence so far (the same tokens the cached run chose). Its
// multiply-adds are the forward record's closed forms; a record without attention maps or rows costs
// a few counters per layer.
ModeTiming run_uncached(const Model& model, const std::vector<int>& tokens, int prompt_len, int new_tokens) {
  RowVector logits;
  ModeTiming timing;
  ForwardRecord record;
  record.with_attention = record.with_rows = false;
  for (int s = 0; s < new_tokens; ++s) {
    progress("uncached", s + 1, new_tokens);
    const std::vector<int> prefix(tokens.begin(), tokens.begin() + prompt_len + s);
    const auto start = std::chrono::steady_clock::now();
    model.forward_uncached(prefix, 0, logits, &record);
    const double seconds = elapsed(start);
    if (s == 0) timing.prefill_ms = seconds * 1e3;
    if (s == 1) timing.first_step_ms = seconds * 1e3;
    timing.last_step_ms = seconds * 1e3;
    if (s >= 1) {
      timing.total_seconds += seconds;
      timing.multiply_adds += double(record.total_macs());
    }
  }
  timing.tokens = new_tokens - 1;
  return timing;
}

// Bytes a one-token decode step must read: its weights (decode_weight_bytes) and the K and V rows of
// `positions` cached positions, `row_dtype` a value.
double decode_bytes(const Model& model, double positions, WeightDtype row_dtype = WeightDtype::F32) {
  const ModelConfig& c = model.config();
  return decode_weight_bytes(model.weights(), c) + positions * double(c.kv_bytes_per_position()) * dtype_bytes(row_dtype) / 4.0;
}

nlohmann::json timing_json(const ModeTiming& t) {
  return {{"tokens_per_s", t.tokens_per_second()}, {"ms_per_token_first", t.first_step_ms},
          {"ms_per_token_last", t.last_step_ms},   {"prefill_ms", t.prefill_ms},
          {"decode_seconds", t.total_seconds},     {"decode_steps", t.tokens}};
}

// --weights-dtype: the random preset's matrices made in F32, F16 or BF16 (a folder keeps its own).
WeightDtype parse_weights_dtype(const BenchOptions& o) {
  if (o.weights_dtype.empty()) return WeightDtype::F32;
  if (!o.model.model_dir.empty() || o.model.preset != "gpt2-small")
    throw UsageError("--weights-dtype applies to the gpt2-small preset (random weights); a model keeps its stored dtype");
  for (WeightDtype d : {WeightDtype::F32, WeightDtype::F16, WeightDtype::BF16})
    if (o.weights_dtype == dtype_name(d)) return d;
  throw UsageError("--weights-dtype must be F32, F16 or BF16, got '" + o.weights_dtype + "'");
}

// The positions a run fills (the prompt, then one a decode step) must fit the model's context.
void require_positions(const ModelConfig& c, int prompt_len, int new_tokens, const std::string& which) {
  if (prompt_len + new_tokens - 1 > c.context_length)
    throw DataError(which + "the context length is " + std::to_string(c.context_length) + " tokens: --prompt-len " +
                    std::to_string(prompt_len) + " plus --new-tokens " + std::to_string(new_tokens) + " needs " +
                    std::to_string(prompt_len + new_tokens - 1) + " positions");
}

// Every weight, and the K/V rows of a full context: what a model can hold at most.
double weights_plus_full_cache(const Model& model) {
  const ModelConfig& c = model.config();
  return double(weight_bytes(model.weights(), c)) + double(c.kv_bytes_per_position()) * c.context_length;
}

// --against: both models decode the same prompt, round after round, the first to run alternating, so
// the machine's swings from minute to minute fall on both sides of every ratio. Tokens/s per round.
struct Comparison {
  std::string name;
  double other_weights_plus_full_cache = 0;  // of the second model, which the peak RSS also counts
  std::vector<double> base_tokens_per_s, other_tokens_per_s, speedup;
};

Comparison compare_cached(const Model& base, const std::string& folder, const std::vector<int>& prompt, int new_tokens,
                          int rounds) {
  ModelOptions options;
  options.model_dir = folder;
  const LoadedModel other = options.load();
  const ModelConfig& c = other.model->config();
  require_positions(c, int(prompt.size()), new_tokens, folder + ": ");
  std::vector<int> other_prompt = prompt;
  for (int& id : other_prompt) id %= c.vocab_size;
  Comparison out;
  out.name = other.name;
  out.other_weights_plus_full_cache = weights_plus_full_cache(*other.model);
  for (int r = 0; r < rounds; ++r) {
    double base_tps = 0, other_tps = 0;
    for (int turn = 0; turn < 2; ++turn) {
      const bool base_turn = (turn == 0) == (r % 2 == 0);
      std::vector<int> tokens = base_turn ? prompt : other_prompt;
      const double tps = run_cached(base_turn ? base : *other.model, tokens, new_tokens).tokens_per_second();
      (base_turn ? base_tps : other_tps) = tps;
    }
    out.base_tokens_per_s.push_back(base_tps);
    out.other_tokens_per_s.push_back(other_tps);
    out.speedup.push_back(other_tps / base_tps);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Context lengths up to which the sweep times uncached steps (a step is a prefill of the whole sequence).
constexpr int kUncachedTimedUpTo = 1024;

// --kv-policy / --kv-dtype: the caches a sweep times at every length. The row dtypes go with the full
// cache (a policy stores rows its own way: bits:16 is fp16, bits:8 and bits:4 KIVI's codes); each other
// policy is one more cache. Policies that rank positions by attention (heavy, tova) need the attention
// the bench does not record: refused.
std::vector<CacheChoice> cache_choices(const BenchOptions& o) {
  std::vector<CacheChoice> out;
  std::vector<WeightDtype> dtypes;
  for (const std::string& name : o.kv_dtypes) {
    WeightDtype d;
    if (!parse_compute_dtype(name, &d)) throw UsageError("--kv-dtype must be f32, f16 or bf16, got '" + name + "'");
    dtypes.push_back(d);
  }
  if (dtypes.empty()) dtypes.push_back(WeightDtype::F32);
  std::vector<KvPolicy> policies;
  for (const std::string& spec : o.kv_policies) {
    policies.push_back(parse_kv_policy_option(spec));
    if (policies.back().rule->uses_attention_sums() || policies.back().rule->uses_newest_attention())
      throw UsageError("--kv-policy " + spec + ": the bench records no attention, which heavy and tova rank by");
  }
  if (policies.empty()) policies.push_back(KvPolicy{});
  const bool any_full = std::any_of(policies.begin(), policies.end(), [](const KvPolicy& p) { return p.full(); });
  if (!any_full && !o.kv_dtypes.empty())
    throw UsageError("--kv-dtype: the row dtypes are the full cache's; add --kv-policy full");
  for (const KvPolicy& policy : policies) {
    if (!policy.full()) {
      out.push_back({policy, WeightDtype::F32});
      continue;
    }
    for (WeightDtype d : dtypes) out.push_back({policy, d});
  }
  return out;
}

// --contexts: cached decode at each prompt length, for each cache, in one process. Per length and
// cache: prefill time and its multiply-adds per second (against the run's multiply-add probe), decode
// tokens/s over the new tokens, the bytes a decode step reads (weights + the cache rows attention reads:
// closed form for the full cache, the cache's own count for a policy's), the cache's bytes at the end,
// and the peak RSS of that run (restarted before each). The bandwidth is probed again right after each
// decode (`probe`), since a long prefill puts the decode minutes after the run's first probe; the
// roofline is the higher of the two. This VM's bandwidth swings from second to second, and a probe
// that lands in a slow second would otherwise credit a decode with more than the roofline.
nlohmann::json context_sweep(const Model& model, const std::vector<int>& contexts, const std::vector<CacheChoice>& caches,
                             int new_tokens, double first_bandwidth, const std::function<double()>& probe, double flop_peak) {
  const ModelConfig& c = model.config();
  const double weights = double(weight_bytes(model.weights(), c));
  nlohmann::json out = nlohmann::json::array();
  SplitMix64 rng(11);
  for (int length : contexts) {
    std::vector<int> prompt(static_cast<std::size_t>(length));
    for (int& id : prompt) id = int(rng.next() % std::uint64_t(c.vocab_size));
    double uncached_tokens_per_s = 0;  // of the first cache's run: the same for every cache
    for (const CacheChoice& choice : caches) {
      const std::string policy = choice.policy.to_string(), dtype = compute_dtype_name(choice.dtype);
      std::fprintf(stderr, "\nbench: context %d, cache %s, rows %s\n", length, policy.c_str(), dtype.c_str());
      restart_peak_rss();
      std::vector<int> tokens = prompt;
      const ModeTiming t = run_cached(model, tokens, new_tokens, choice);
      const double peak_rss = double(peak_rss_bytes());
      const double bandwidth_after = probe();  // after the peak is read: the probe's buffer is not the model's
      const double bandwidth = std::max(first_bandwidth, bandwidth_after);
      // Without the cache a step is one pass over every position: timed (two steps) up to
      // kUncachedTimedUpTo positions; past that, the prefill of this length stands for it (the same
      // pass, fed in chunks), named as such in the JSON.
      const bool timed = length <= kUncachedTimedUpTo;
      if (uncached_tokens_per_s == 0)
        uncached_tokens_per_s = timed ? run_uncached(model, tokens, length, 3).tokens_per_second() : 1e3 / t.prefill_ms;
      const double mean_positions = length + (new_tokens - 1) / 2.0;
      const bool full = choice.policy.full();
      const double bytes_per_token = full ? decode_bytes(model, mean_positions, choice.dtype)
                                          : decode_bytes(model, 0) + t.cache_bytes_read / t.tokens;
      const double achieved = bytes_per_token / (t.total_seconds / t.tokens);
      const double prefill_seconds = t.prefill_ms / 1e3;
      const double prefill_flops = 2.0 * t.prefill_multiply_adds / prefill_seconds;
      const double cache_bytes = full ? double(c.kv_bytes_per_position()) * dtype_bytes(choice.dtype) / 4.0 *
                                            double(length + new_tokens - 1)
                                      : t.cache_bytes_end;
      out.push_back({{"context", length},
                     {"kv_policy", policy},
                     {"kv_dtype", dtype},
                     {"prefill_seconds", prefill_seconds},
                     {"prefill_multiply_adds", t.prefill_multiply_adds},
                     {"prefill_gflops", prefill_flops / 1e9},
                     {"prefill_flop_peak_fraction", prefill_flops / flop_peak},
                     {"cached_tokens_per_s", t.tokens_per_second()},
                     {"uncached_tokens_per_s", uncached_tokens_per_s},
                     {"uncached_from", timed ? "two timed steps" : "the prefill: one pass over every position"},
                     {"cache_speedup", t.tokens_per_second() / uncached_tokens_per_s},
                     {"bytes_per_token", bytes_per_token},
                     {"bytes_per_token_from", full ? "closed form" : "the cache's bytes held, each step"},
                     {"bandwidth_after_decode_gb_s", bandwidth_after / 1e9},
                     {"bandwidth_gb_s", bandwidth / 1e9},
                     {"roofline_fraction", achieved / bandwidth},
                     {"cache_bytes", cache_bytes},
                     {"weights_plus_cache_bytes", weights + cache_bytes},
                     {"peak_rss_bytes", peak_rss}});
    }
  }
  return out;
}

int run_bench(const BenchOptions& o) {
  if (o.mode != "both" && o.mode != "cached" && o.mode != "uncached")
    throw UsageError("--mode must be both, cached or uncached, got '" + o.mode + "'");
  if (o.new_tokens < 2) throw UsageError("--new-tokens must be at least 2 (a prefill and one decode step)");
  if (!o.against.empty() && o.mode != "cached")
    throw UsageError("--against times cached decode only: add --mode cached");
  if (!o.contexts.empty() && (o.mode != "cached" || !o.against.empty()))
    throw UsageError("--contexts times cached decode only: add --mode cached, without --against");
  if (o.contexts.empty() && (!o.kv_policies.empty() || !o.kv_dtypes.empty()))
    throw UsageError("--kv-policy and --kv-dtype choose the caches of a sweep: add --contexts");
  const std::vector<CacheChoice> caches = cache_choices(o);
  const int threads = o.threads > 0 ? o.threads : linear_threads();
  set_linear_threads(threads);

  const WeightDtype random_dtype = parse_weights_dtype(o);
  const char* isa = active_kernels().isa;
  std::fprintf(stderr, "bench: measuring read bandwidth (%d MiB, %d threads)\n", o.probe_mb, threads);
  const double bandwidth = measure_read_bandwidth(std::size_t(o.probe_mb) << 20, threads, 5);
  std::fprintf(stderr, "bench: measuring the multiply-add peak (%s, %d threads)\n", isa, threads);
  const double flop_peak = measure_flop_peak(threads, 5);
  // The peak resident memory from here on is the model's: loading, the cache and decoding.
  const bool rss_from_load = restart_peak_rss();
  std::fprintf(stderr, "bench: loading the model\n");
  const LoadedModel loaded = o.model.model_dir.empty() ? load_preset(o.model.preset, random_dtype) : o.model.load();
  const Model& model = *loaded.model;
  const ModelConfig& c = model.config();
  if (o.contexts.empty()) require_positions(c, o.prompt_len, o.new_tokens, "");
  if (!o.contexts.empty()) {
    for (int length : o.contexts) require_positions(c, length, o.new_tokens, "--contexts: ");
    for (const CacheChoice& choice : caches)
      if (choice.dtype != WeightDtype::F32 && c.mla())
        throw UsageError("--kv-dtype " + std::string(compute_dtype_name(choice.dtype)) +
                         ": MLA caches latent rows, kept in f32");
    nlohmann::json doc;
    doc["model"] = loaded.name;
    doc["isa"] = isa;
    doc["threads"] = threads;
    doc["new_tokens"] = o.new_tokens;
    doc["bandwidth_gb_s"] = bandwidth / 1e9;
    doc["flop_peak_gflop_s"] = flop_peak / 1e9;
    doc["weight_bytes"] = double(weight_bytes(model.weights(), c));
    doc["prefill_chunk"] = kPrefillChunk;
    const auto probe = [&] {
      std::fprintf(stderr, "\nbench: measuring read bandwidth again\n");
      return measure_read_bandwidth(std::size_t(o.probe_mb) << 20, threads, 5);
    };
    doc["contexts"] = context_sweep(model, o.contexts, caches, o.new_tokens, bandwidth, probe, flop_peak);
    std::fprintf(stderr, "\n");
    if (o.json) {
      std::cout << doc.dump(2) << "\n";
      return 0;
    }
    std::printf("model %s, %d threads, %s kernels, %d new tokens; bandwidth at the start %.2f GB/s, multiply-add peak "
                "%.1f GFLOP/s\n",
                loaded.name.c_str(), threads, isa, o.new_tokens, bandwidth / 1e9, flop_peak / 1e9);
    std::printf("%8s %-18s %5s %10s %10s %10s %12s %12s %10s %10s %12s %12s\n", "context", "cache", "rows", "prefill s",
                "GFLOP/s", "tokens/s", "uncached t/s", "MB/token", "roof GB/s", "roofline", "cache MB", "peak RSS MB");
    for (const nlohmann::json& r : doc["contexts"])
      std::printf("%8d %-18s %5s %10.3f %10.2f %10.2f %12.4f %12.2f %10.2f %9.0f%% %12.2f %12.1f\n", r["context"].get<int>(),
                  r["kv_policy"].get<std::string>().c_str(), r["kv_dtype"].get<std::string>().c_str(),
                  r["prefill_seconds"].get<double>(), r["prefill_gflops"].get<double>(), r["cached_tokens_per_s"].get<double>(),
                  r["uncached_tokens_per_s"].get<double>(), r["bytes_per_token"].get<double>() / 1e6,
                  r["bandwidth_gb_s"].get<double>(), 100.0 * r["roofline_fraction"].get<double>(),
                  r["cache_bytes"].get<double>() / 1e6, r["peak_rss_bytes"].get<double>() / 1e6);
    return 0;
  }

  std::vector<int> tokens(o.prompt_len);
  SplitMix64 rng(7);
  for (int& id : tokens) id = int(rng.next() % std::uint64_t(c.vocab_size));
  ModeTiming cached, uncached;
  cached = run_cached(model, tokens, o.new_tokens);  // always: it chooses the tokens both modes feed
  if (o.mode != "cached") uncached = run_uncached(model, tokens, o.prompt_len, o.new_tokens);
  Comparison comparison;
  if (!o.against.empty()) {
    std::fprintf(stderr, "\nbench: loading %s\n", o.against.c_str());
    comparison = compare_cached(model, o.against, std::vector<int>(tokens.begin(), tokens.begin() + o.prompt_len),
                                o.new_tokens, o.rounds);
  }
  std::fprintf(stderr, "\n");

  const double mean_positions = o.prompt_len + (o.new_tokens - 1) / 2.0;
  const double bytes_per_token = decode_bytes(model, mean_positions);
  const double achieved = bytes_per_token / (cached.total_seconds / cached.tokens);
  const double weights_and_cache = weights_plus_full_cache(model) + comparison.other_weights_plus_full_cache;
  const double rss = double(peak_rss_bytes());
  const double uncached_flops = uncached.total_seconds > 0 ? 2.0 * uncached.multiply_adds / uncached.total_seconds : 0.0;

  nlohmann::json doc;
  doc["model"] = loaded.name;
  doc["isa"] = isa;
  doc["threads"] = threads;
  doc["prompt_len"] = o.prompt_len;
  doc["new_tokens"] = o.new_tokens;
  doc["cached"] = timing_json(cached);
  doc["flop_peak_gflop_s"] = flop_peak / 1e9;
  if (o.mode != "cached") {
    doc["uncached"] = timing_json(uncached);
    doc["uncached"]["gflop_s"] = uncached_flops / 1e9;
    doc["uncached"]["flop_peak_fraction"] = uncached_flops / flop_peak;
    doc["uncached_over_cached_time"] = uncached.total_seconds / cached.total_seconds;
  }
  doc["bytes_per_token"] = bytes_per_token;
  doc["bandwidth_gb_s"] = bandwidth / 1e9;
  doc["achieved_gb_s"] = achieved / 1e9;
  doc["roofline_fraction"] = achieved / bandwidth;
  doc["peak_rss_bytes"] = rss;
  doc["peak_rss_counts"] = !rss_from_load ? "the whole run, probes included"
                          : o.against.empty() ? "load and decode"
                                              : "load and decode of both models";
  doc["weights_plus_cache_bytes"] = weights_and_cache;
  doc["peak_rss_over_weights_plus_cache"] = rss / weights_and_cache;
  if (!o.against.empty())
    doc["against"] = {{"model", comparison.name},
                      {"rounds", o.rounds},
                      {"model_tokens_per_s", comparison.base_tokens_per_s},
                      {"against_tokens_per_s", comparison.other_tokens_per_s},
                      {"speedup", comparison.speedup},
                      {"speedup_median", median(comparison.speedup)}};
  if (o.json) {
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::printf("model %s, %d threads, %s kernels, prompt %d tokens, %d new tokens\n", loaded.name.c_str(), threads,
              isa, o.prompt_len, o.new_tokens);
  std::printf("%-9s %12s %16s %16s %12s\n", "mode", "tokens/s", "ms/token first", "ms/token last", "prefill ms");
  std::printf("%-9s %12.2f %16.2f %16.2f %12.2f\n", "cached", cached.tokens_per_second(), cached.first_step_ms,
              cached.last_step_ms, cached.prefill_ms);
  if (o.mode != "cached")
    std::printf("%-9s %12.2f %16.2f %16.2f %12.2f\n", "uncached", uncached.tokens_per_second(),
                uncached.first_step_ms, uncached.last_step_ms, uncached.prefill_ms);
  if (o.mode != "cached")
    std::printf("uncached / cached decode time: %.1fx\n", uncached.total_seconds / cached.total_seconds);
  std::printf("bytes per cached token %.1f MB; read bandwidth %.2f GB/s; achieved %.2f GB/s = %.0f%% of roofline\n",
              bytes_per_token / 1e6, bandwidth / 1e9, achieved / 1e9, 100.0 * achieved / bandwidth);
  std::printf("multiply-add peak %.1f GFLOP/s", flop_peak / 1e9);
  if (o.mode != "cached")
    std::printf("; uncached decode %.1f GFLOP/s = %.0f%% of peak", uncached_flops / 1e9, 100.0 * uncached_flops / flop_peak);
  std::printf("\n");
  if (!o.against.empty()) {
    std::printf("against %s, cached tokens/s in %d alternating rounds:", comparison.name.c_str(), o.rounds);
    for (int r = 0; r < o.rounds; ++r)
      std::printf(" %.1f vs %.1f (%.2fx)", comparison.other_tokens_per_s[r], comparison.base_tokens_per_s[r],
                  comparison.speedup[r]);
    std::printf("; median %.2fx\n", median(comparison.speedup));
  }
  std::printf("peak RSS (%s) %.1f MB = %.2fx weights + full cache (%.1f MB)\n",
              doc["peak_rss_counts"].get<std::string>().c_str(), rss / 1e6, rss / weights_and_cache,
              weights_and_cache / 1e6);
  return 0;
}

void add_bench_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<BenchOptions>();
  o->model.preset = "gpt2-small";
  CLI::App* cmd = app.add_subcommand("bench", "decode speed with and without the cache, against the bandwidth roofline");
  o->model.add_to(*cmd);
  cmd->add_option("--prompt-len", o->prompt_len, "prompt tokens (default 4)")->check(positive_integer());
  cmd->add_option("--new-tokens", o->new_tokens, "tokens to generate (default 200)")->check(positive_integer());
  cmd->add_option("--threads", o->threads, "threads (default: all cores, at most 8)")->check(positive_integer());
  cmd->add_option("--mode", o->mode, "both (default), cached or uncached");
  cmd->add_option("--probe-mb", o->probe_mb, "bandwidth probe buffer in MiB (default 256)")->check(positive_integer());
  cmd->add_option("--weights-dtype", o->weights_dtype, "gpt2-small's random matrices held as F32 (default), F16 or BF16");
  cmd->add_option("--against", o->against,
                  "a second model folder (e.g. the BF16 copy of --model): cached decode of both, alternating, "
                  "in this one process")->check(CLI::ExistingDirectory);
  cmd->add_option("--rounds", o->rounds, "--against: rounds of both models (default 3)")->check(positive_integer());
  cmd->add_option("--contexts", o->contexts,
                  "a sweep of prompt lengths (e.g. 256,1024,4096): cached decode of --new-tokens at each, with --mode cached")
      ->delimiter(',')
      ->check(positive_integer());
  cmd->add_option("--kv-policy", o->kv_policies,
                  "--contexts: a cache policy to time beside the others (repeat it): " + kv_policy_items() +
                      "; default full")
      ->take_all();
  cmd->add_option("--kv-dtype", o->kv_dtypes,
                  "--contexts: the full cache's row dtypes, f32 (default), f16, bf16, e.g. f32,f16 (read as stored)")
      ->delimiter(',');
  cmd->add_flag("--json", o->json, "one JSON document");
  cmd->callback([o, &run] { run = [o] { return run_bench(*o); }; });
}

const CommandRegistrar registrar(40, add_bench_command);

}  // namespace
}  // namespace kvscope::cli
