#include "core/engine/session/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "core/engine/kernels/error.h"
#include "core/engine/session/policy_step.h"

namespace kvscope {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

DecodeSession::DecodeSession(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
                             SessionOptions options)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options) {
  const ModelConfig& c = model_->config();
  if (options_.window < 0) throw UsageError("window must be positive, got " + std::to_string(options_.window));
  if (options_.window > c.context_length)
    throw UsageError("window " + std::to_string(options_.window) + " is longer than the context length " +
                     std::to_string(c.context_length));
  if (!options_.run_cached && !options_.run_uncached) throw UsageError("at least one mode must run");
  if (options_.sampling.temperature < 0.0f || !std::isfinite(options_.sampling.temperature))
    throw UsageError("temperature must be 0 (greedy) or positive");
  if (options_.sampling.top_k < 0) throw UsageError("top-k must be 0 (all) or positive");
  if (options_.kv_policy && !options_.run_cached) throw UsageError("a cache policy applies to the cached mode: run it");
  cache_ = KvCache(c, options_.window);
  if (options_.kv_policy) policy_cache_ = PolicyKvCache(c, *options_.kv_policy);
}

bool DecodeSession::policy_unbounded() const {
  const ModelConfig& c = model_->config();
  return c.rotary() && (options_.window > 0 || (options_.kv_policy && options_.kv_policy->evicts()));
}

void DecodeSession::start(std::vector<int> prompt_ids, std::vector<int> forced_ids) {
  const ModelConfig& c = model_->config();
  if (prompt_ids.empty()) throw DataError("the prompt is empty: give at least one token");
  for (const std::vector<int>* ids : {&prompt_ids, &forced_ids})
    for (int id : *ids)
      if (id < 0 || id >= c.vocab_size)
        throw DataError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                        std::to_string(c.vocab_size - 1) + ")");
  if (int(prompt_ids.size()) > c.context_length && !policy_unbounded())
    throw DataError("the prompt has " + std::to_string(prompt_ids.size()) +
                    " tokens but the context length is " + std::to_string(c.context_length));
  prompt_ = std::move(prompt_ids);
  forced_ = std::move(forced_ids);
  reset();
}

void DecodeSession::reset() {
  cache_.reset();
  if (options_.kv_policy) policy_cache_ = PolicyKvCache(model_->config(), *options_.kv_policy);
  history_.clear();
  undo_.clear();
}

std::vector<int> DecodeSession::tokens() const {
  std::vector<int> ids = prompt_;
  for (const StepTrace& t : history_) ids.push_back(t.next_id);
  return ids;
}

// Positions 0..next_feed_end()-1 exist after the next step.
int DecodeSession::next_feed_end() const { return int(prompt_.size()) + steps_done(); }

std::string DecodeSession::why_not_steps(int n_steps) const {
  if (prompt_.empty()) return "no prompt";
  if (n_steps < 1) return "";
  // Learned positions end with the table: a window bounds the cache's memory, not the context.
  // Rotary positions look nothing up: with a window, decoding goes on past the context length.
  const ModelConfig& c = model_->config();
  if (policy_unbounded()) return "";
  const int context = c.context_length;
  const int last_end = next_feed_end() + n_steps - 1;  // positions needed by the last of the steps
  if (last_end <= context) return "";
  return "the context length is " + std::to_string(context) + " tokens: a prompt of " +
         std::to_string(prompt_.size()) + " plus " + std::to_string(steps_done() + n_steps) +
         " new tokens needs " + std::to_string(last_end) + " positions; use fewer tokens" +
         (c.rotary() ? " or a sliding window" : "");
}

void DecodeSession::check_steps(int n_steps) const {
  const std::string why_not = why_not_steps(n_steps);
  if (!why_not.empty()) throw DataError(why_not);
}

bool DecodeSession::can_step(std::string* why_not) const {
  const std::string reason = why_not_steps(1);
  if (why_not) *why_not = reason;
  return reason.empty();
}

std::vector<int> DecodeSession::feed_for_next_step() const {
  if (history_.empty()) return prompt_;
  return {history_.back().next_id};
}

int DecodeSession::choose_next(const RowVector& logits, int step, bool* forced) const {
  *forced = step < int(forced_.size());
  return *forced ? forced_[step] : sample_token(logits, options_.sampling, step);
}

DecodeSession::Undo DecodeSession::save_overwritten(int first_new, int n_new) const {
  Undo undo;
  if (!cache_.has_ring()) return undo;  // only a ring overwrites rows
  const int d = cache_.row_dim(), dv = cache_.value_dim();
  for (int l = 0; l < cache_.n_layer(); ++l) {
    std::vector<int> positions;
    if (cache_.ring(l) > 0)
      for (int p = std::max(cache_.first_held(l), first_new + n_new - cache_.ring(l)); p < first_new; ++p)
        positions.push_back(p);
    const int n = int(positions.size());
    Matrix k(n, d), v(n, dv);
    for (int i = 0; i < n; ++i) {
      k.row(i) = Eigen::Map<const RowVector>(cache_.key_row(l, positions[std::size_t(i)]), d);
      if (dv > 0) v.row(i) = Eigen::Map<const RowVector>(cache_.value_row(l, positions[std::size_t(i)]), dv);
    }
    undo.positions.push_back(std::move(positions));
    undo.keys.push_back(std::move(k));
    undo.values.push_back(std::move(v));
  }
  return undo;
}

void DecodeSession::Undo::restore(KvCache& cache) const {
  for (std::size_t l = 0; l < positions.size(); ++l)
    for (std::size_t i = 0; i < positions[l].size(); ++i)
      cache.write(int(l), positions[l][i], keys[l].row(Eigen::Index(i)).data(), values[l].row(Eigen::Index(i)).data());
}

void DecodeSession::run_forwards(StepTrace& t, KvCache& cache, PolicyKvCache& policy_cache, ForwardScratch* scratch,
                                 const StepTrace* previous) const {
  auto prepare = [&](ModeTrace& m) {
    m.ran = true;
    m.forward.with_attention = options_.record_attention;
    m.forward.with_rows = options_.record_rows;
  };
  auto add_totals = [](ModeTrace& m, const ModeTrace* before) {
    m.total_rows_computed = m.rows_computed() + (before ? before->total_rows_computed : 0);
    m.total_macs = m.macs() + (before ? before->total_macs : 0);
  };
  if (options_.run_cached) {
    prepare(t.cached);
    const auto start = std::chrono::steady_clock::now();
    if (options_.kv_policy) {
      // The cached mode reads the policy cache; the full cache runs beside it (not timed).
      t.cached.forward.with_key_attention = options_.kv_policy->rule->uses_attention_sums();
      if (options_.kv_policy->rule->uses_newest_attention()) t.cached.forward.with_attention = true;
      model_->forward_cached(t.input_ids, policy_cache, options_.window, t.cached.logits, &t.cached.forward, scratch);
      t.cached.seconds = seconds_since(start);
      finish_policy_step(*model_, t.input_ids, options_.window, policy_cache, cache, t.cached, scratch);
    } else {
      model_->forward_cached(t.input_ids, cache, options_.window, t.cached.logits, &t.cached.forward, scratch);
      t.cached.seconds = seconds_since(start);
      t.cached.cache_bytes = cache.bytes_held();
      t.cached.cache_bytes_allocated = cache.bytes_allocated();
    }
    add_totals(t.cached, previous ? &previous->cached : nullptr);
  } else {
    cache.advance(int(t.input_ids.size()));  // positions still move on when only the uncached mode runs
  }
  if (options_.run_uncached) {
    prepare(t.uncached);
    const auto start = std::chrono::steady_clock::now();
    model_->forward_uncached(t.context_ids, options_.window, t.uncached.logits, &t.uncached.forward);
    t.uncached.seconds = seconds_since(start);
    add_totals(t.uncached, previous ? &previous->uncached : nullptr);
  }
  if (t.both_ran()) {
    t.max_abs_logit_diff = (t.cached.logits - t.uncached.logits).cwiseAbs().maxCoeff();
    Eigen::Index top_cached = 0, top_uncached = 0;
    t.cached.logits.maxCoeff(&top_cached);
    t.uncached.logits.maxCoeff(&top_uncached);
    t.top1_agrees = top_cached == top_uncached;
  }
}

const StepTrace& DecodeSession::step() {
  if (prompt_.empty()) throw UsageError("start() the session with a prompt before stepping");
  check_steps(1);
  const std::vector<int> feed = feed_for_next_step();
  StepTrace t;
  t.step = steps_done();
  t.prefill = history_.empty();
  t.position_begin = cache_.next_position();
  t.position_end = t.position_begin + int(feed.size());
  t.window = options_.window;
  t.numerics = describe(model_->numerics());
  t.rounded = model_->numerics().rounds();
  t.input_ids = feed;
  t.context_ids = tokens();
  for (int id : t.context_ids) t.context_texts.push_back(tokenizer_->token_text(id));

  Undo undo = options_.run_cached ? save_overwritten(t.position_begin, int(feed.size())) : Undo{};
  run_forwards(t, cache_, policy_cache_, &scratch_, history_.empty() ? nullptr : &history_.back());
  const RowVector& logits = t.cached.ran ? t.cached.logits : t.uncached.logits;
  t.next_id = choose_next(logits, t.step, &t.forced);
  t.next_text = tokenizer_->token_text(t.next_id);
  t.top = top_tokens(logits, 5, *tokenizer_);

  history_.push_back(std::move(t));
  undo_.push_back(std::move(undo));
  if (options_.full_steps_kept > 0) drop_old_tensors();
  return history_.back();
}

// Bounded memory: the steps with their large tensors are always a suffix of the history (back() pops
// everything after the one it restores). Past the newest, those over the count or the byte budget drop them.
void DecodeSession::drop_old_tensors() {
  std::int64_t bytes = 0;
  int kept = 0;
  for (int s = steps_done() - 1; s >= 0; --s) {
    StepTrace& t = history_[std::size_t(s)];
    if (t.tensors_dropped) break;
    ++kept;
    bytes += large_tensor_bytes(t);
    if (s < steps_done() - 1 && (kept > options_.full_steps_kept || bytes > options_.full_bytes_kept))
      drop_large_tensors(t);
  }
}

StepTrace DecodeSession::recompute_step(int step) const {
  if (step < 0 || step >= steps_done()) throw UsageError("recompute_step: no step " + std::to_string(step));
  // The cache as it was before `step`: later rows forgotten, rows a window overwrote put back.
  KvCache cache = cache_;
  for (int s = steps_done() - 1; s >= step; --s) {
    cache.truncate(history_[std::size_t(s)].position_begin);
    undo_[std::size_t(s)].restore(cache);
  }
  const StepTrace& kept = history_[std::size_t(step)];
  StepTrace t;
  t.step = kept.step;
  t.prefill = kept.prefill;
  t.position_begin = kept.position_begin;
  t.position_end = kept.position_end;
  t.window = kept.window;
  t.input_ids = kept.input_ids;
  t.context_ids = kept.context_ids;
  t.context_texts = kept.context_texts;
  t.next_id = kept.next_id;
  t.next_text = kept.next_text;
  t.forced = kept.forced;
  t.top = kept.top;
  ForwardScratch scratch;
  PolicyKvCache policy_cache = options_.kv_policy ? replay_policy(step) : PolicyKvCache();
  run_forwards(t, cache, policy_cache, &scratch, step > 0 ? &history_[std::size_t(step - 1)] : nullptr);
  return t;
}

PolicyKvCache DecodeSession::replay_policy(int steps) const {
  PolicyKvCache cache(model_->config(), *options_.kv_policy);
  ForwardScratch scratch;
  ForwardRecord record;  // only for the attention heavy hitters accumulate
  record.with_rows = false;
  record.with_attention = options_.kv_policy->rule->uses_newest_attention();
  record.with_key_attention = options_.kv_policy->rule->uses_attention_sums();
  RowVector logits;
  for (int s = 0; s < steps; ++s) {
    model_->forward_cached(history_[std::size_t(s)].input_ids, cache, options_.window, logits, &record, &scratch);
    end_policy_step(cache, &record);
  }
  return cache;
}

const StepTrace& DecodeSession::full_step(int step) {
  StepTrace& t = history_.at(std::size_t(step));
  if (t.tensors_dropped) restore_large_tensors(t, recompute_step(step));
  return t;
}

bool DecodeSession::back() {
  if (history_.empty()) return false;
  const StepTrace& last = history_.back();
  cache_.truncate(last.position_begin);
  undo_.back().restore(cache_);
  history_.pop_back();
  undo_.pop_back();
  if (options_.kv_policy) policy_cache_ = replay_policy(steps_done());
  if (!history_.empty()) full_step(steps_done() - 1);  // the step shown now has its tensors
  return true;
}

}  // namespace kvscope
