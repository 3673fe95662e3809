#include "core/lessons/memory_wall.h"

#include <algorithm>
#include <chrono>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/cache/policy_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/error.h"
#include "core/engine/model/weights.h"
#include "core/engine/session/session.h"

namespace kvscope {

namespace {

// Fed this many tokens a call while growing (llama.cpp's default micro-batch): activations stay small.
constexpr std::size_t kGrowChunk = 512;
// Decode steps timed back to back, between the caches' turns.
constexpr int kTimedRun = 4;

// The same shape with fewer KV heads or a latent cache: another model, seeded random weights.
ModelConfig variant_config(const ModelConfig& base, const WallCache& cache) {
  ModelConfig c = base;
  if (cache.kind == WallCacheKind::KvHeads) {
    if (base.mla() || base.n_head % cache.kv_heads != 0 || cache.kv_heads > base.n_head)
      throw UsageError("\"" + cache.spec + "\": the KV heads must divide the model's " + std::to_string(base.n_head) +
                       " query heads" + (base.mla() ? " of a model without a latent cache" : ""));
    c.n_kv_head = cache.kv_heads;
  } else {
    if (!base.traits().latent_attention || base.n_local_layers() > 0)
      throw UsageError("\"" + cache.spec + "\": a latent cache is defined for Llama-style models without local layers");
    c.kv_lora_rank = cache.latent_rank;
    c.qk_rope_dim = std::max(2, base.d_head() / 2 / 2 * 2);  // half of each head rotated, DeepSeek-V2's 64 of 192 in spirit
    c.n_kv_head = c.n_head;
    c.qkv_bias = c.out_bias = c.qk_norm = false;
    c.rope_scaling = RopeScaling{};
  }
  validate(c);
  return c;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int wall_tokens_past_length(int timed_tokens) { return timed_tokens + (timed_tokens + kTimedRun - 1) / kTimedRun; }

struct MemoryWall::Run {
  std::shared_ptr<const Model> model;
  std::unique_ptr<KvRows> cache;
  PolicyKvCache* policy = nullptr;  // the cache, when a policy manages it
  ForwardScratch scratch;
  RowVector logits;
  int fed = 0;

  void feed(const std::vector<int>& ids) {
    model->forward_cached(ids, *cache, 0, logits, nullptr, &scratch);
    if (policy && policy->policy().evicts()) policy->evict(nullptr);
  }
};

MemoryWall::MemoryWall(const LoadedModel& model, std::vector<int> tokens, std::vector<int> lengths,
                       const std::vector<std::string>& compare, int timed_tokens)
    : model_(model), tokens_(std::move(tokens)), lengths_(std::move(lengths)), timed_tokens_(timed_tokens) {
  const ModelConfig& config = model_.model->config();
  if (lengths_.empty()) throw DataError("\"lengths\" is empty");
  for (std::size_t i = 0; i < lengths_.size(); ++i) {
    if (lengths_[i] < 2) throw DataError("\"lengths\" must be at least 2 positions each");
    if (i > 0 && lengths_[i] <= lengths_[i - 1] + wall_tokens_past_length(timed_tokens_))
      throw DataError("\"lengths\" must rise by more than the " + std::to_string(wall_tokens_past_length(timed_tokens_)) +
                      " tokens timed at each step (" + std::to_string(lengths_[i - 1]) + " then " + std::to_string(lengths_[i]) + ")");
  }
  const int longest = lengths_.back() + wall_tokens_past_length(timed_tokens_);
  if (longest > config.context_length)
    throw DataError("the longest length and the tokens timed there (" + std::to_string(longest) + " positions) do not fit " +
                    model_.name + "'s context of " + std::to_string(config.context_length));
  if (int(tokens_.size()) < longest) throw DataError("the sequence is shorter than the longest length");
  std::vector<WallCache> caches = {full_wall_cache()};
  for (const std::string& spec : compare) caches.push_back(parse_wall_cache(spec));
  for (const WallCache& cache : caches) {
    auto run = std::make_unique<Run>();
    WallSeries s;
    s.cache = cache;
    if (cache.kind == WallCacheKind::KvHeads || cache.kind == WallCacheKind::Latent) {
      const ModelConfig c = variant_config(config, cache);
      run->model = std::make_shared<Model>(c, random_weights(c, kPresetSeed));
    } else {
      run->model = model_.model;
    }
    const ModelConfig& c = run->model->config();
    s.weights_bytes = decode_weight_bytes(run->model->weights(), c);
    s.shape = loaded_cache_shape(c, model_.name);
    s.variant = own_attention_variant(s.shape);
    if (cache.kind == WallCacheKind::Policy) {
      if (c.mla()) throw UsageError("\"" + cache.spec + "\": a cache policy keeps K/V rows, and this model caches latent rows");
      auto policy = std::make_unique<PolicyKvCache>(c, cache.policy);
      policy->reserve(longest);
      run->policy = policy.get();
      run->cache = std::move(policy);
      const int bits = cache.policy.quantizer->bits();
      if (bits != 32 && bits != 16 && bits != 8)
        throw UsageError("\"" + cache.spec + "\": the calculator's closed form knows 8-, 16- and 32-bit values");
      s.dtype = bits == 8 ? KvDtype::FP8 : bits == 16 ? KvDtype::BF16 : KvDtype::FP32;
      if (cache.policy.evicts()) {  // at most max_rows positions a layer: the calculator's window
        const int kept = cache.policy.rule->max_rows();
        s.shape.layer_windows.assign(std::size_t(c.n_layer), kept);
        for (int l = 0; l < c.n_layer; ++l)
          if (c.layer_window(l) > 0) s.shape.layer_windows[std::size_t(l)] = std::min(kept, c.layer_window(l));
        s.variant.sliding = true;
      }
    } else {
      if (cache.kind == WallCacheKind::Rows16 && c.mla())
        throw UsageError("\"" + cache.spec + "\": this model's latent rows stay float32");
      auto plain = std::make_unique<KvCache>(c, 0, cache.kind == WallCacheKind::Rows16 ? cache.dtype : WeightDtype::F32);
      plain->reserve(longest);
      run->cache = std::move(plain);
      if (cache.kind == WallCacheKind::Rows16) s.dtype = KvDtype::BF16;  // 2 bytes a value, f16 or bf16
    }
    series_.push_back(std::move(s));
    runs_.push_back(std::move(run));
  }
}

MemoryWall::~MemoryWall() = default;

void MemoryWall::measure_next() {
  if (measured() >= steps()) return;
  const int length = lengths_[std::size_t(measured())];
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); };
  std::vector<WallPoint> points(runs_.size());
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    Run& run = *runs_[i];
    while (run.fed < length) {
      const int end = std::min(length, run.fed + int(kGrowChunk));
      run.feed(std::vector<int>(tokens_.begin() + run.fed, tokens_.begin() + end));
      run.fed = end;
    }
    points[i].positions = length;
    points[i].cache_bytes = run.cache->bytes_held();
    points[i].closed_form_bytes = kv_cache_bytes(series_[i].shape, series_[i].variant, length, series_[i].dtype);
  }
  // Runs of kTimedRun steps, each cache in turn, each run after one untimed step that brings its model's
  // weights and rows back into the CPU's caches (the other models' runs pushed them out).
  for (int done = 0; done < timed_tokens_; done += kTimedRun)
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      if (!series_[i].cache.timed()) continue;
      Run& run = *runs_[i];
      run.feed({tokens_[std::size_t(run.fed++)]});
      for (int k = done; k < std::min(timed_tokens_, done + kTimedRun); ++k) {
        const auto start = Clock::now();
        run.feed({tokens_[std::size_t(run.fed++)]});
        points[i].step_ms.push_back(ms_since(start));
      }
    }
  {  // Without a cache a token is one pass over every position.
    RowVector logits;
    const auto start = Clock::now();
    model_.model->forward_uncached(std::vector<int>(tokens_.begin(), tokens_.begin() + length), 0, logits, nullptr);
    points.front().uncached_ms = ms_since(start);
  }
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    points[i].ms_per_token = median(points[i].step_ms);
    series_[i].points.push_back(std::move(points[i]));
  }
  // The panes' trace: the prompt is the first length - 1 tokens, then one decode step in both modes.
  DecodeSession session(model_.model, model_.tokenizer, SessionOptions{});
  session.start(std::vector<int>(tokens_.begin(), tokens_.begin() + (length - 1)), {tokens_[std::size_t(length - 1)]});
  session.step();
  session.step();
  StepTrace t = session.history().back();
  t.step = measured();
  traces_.push_back(std::move(t));
}

}  // namespace kvscope
