#include "core/engine/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "core/engine/error.h"

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
  cache_ = KvCache(c, options_.window);
}

void DecodeSession::start(std::vector<int> prompt_ids, std::vector<int> forced_ids) {
  const ModelConfig& c = model_->config();
  if (prompt_ids.empty()) throw DataError("the prompt is empty: give at least one token");
  for (const std::vector<int>* ids : {&prompt_ids, &forced_ids})
    for (int id : *ids)
      if (id < 0 || id >= c.vocab_size)
        throw DataError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                        std::to_string(c.vocab_size - 1) + ")");
  if (int(prompt_ids.size()) > c.context_length && !(c.rotary() && options_.window > 0))
    throw DataError("the prompt has " + std::to_string(prompt_ids.size()) +
                    " tokens but the context length is " + std::to_string(c.context_length));
  prompt_ = std::move(prompt_ids);
  forced_ = std::move(forced_ids);
  reset();
}

void DecodeSession::reset() {
  cache_.reset();
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
  if (c.rotary() && options_.window > 0) return "";
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
  if (cache_.window() == 0) return undo;  // only a ring overwrites rows
  const int capacity = cache_.capacity();
  for (int p = std::max(cache_.first_held(), first_new + n_new - capacity); p < first_new; ++p)
    undo.positions.push_back(p);
  if (undo.positions.empty()) return undo;
  const int n = int(undo.positions.size()), d = cache_.row_dim();
  for (int l = 0; l < cache_.n_layer(); ++l) {
    Matrix k(n, d), v(n, d);
    for (int i = 0; i < n; ++i) {
      k.row(i) = Eigen::Map<const RowVector>(cache_.key_row(l, undo.positions[i]), d);
      v.row(i) = Eigen::Map<const RowVector>(cache_.value_row(l, undo.positions[i]), d);
    }
    undo.keys.push_back(std::move(k));
    undo.values.push_back(std::move(v));
  }
  return undo;
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
  t.input_ids = feed;
  t.context_ids = tokens();
  for (int id : t.context_ids) t.context_texts.push_back(tokenizer_->token_text(id));

  const ModeTrace* previous_cached = history_.empty() ? nullptr : &history_.back().cached;
  const ModeTrace* previous_uncached = history_.empty() ? nullptr : &history_.back().uncached;
  auto prepare = [&](ModeTrace& m) {
    m.ran = true;
    m.forward.with_attention = options_.record_attention;
    m.forward.with_rows = options_.record_rows;
  };
  auto add_totals = [](ModeTrace& m, const ModeTrace* previous) {
    m.total_rows_computed = m.rows_computed() + (previous ? previous->total_rows_computed : 0);
    m.total_macs = m.macs() + (previous ? previous->total_macs : 0);
  };

  Undo undo;
  if (options_.run_cached) {
    prepare(t.cached);
    undo = save_overwritten(t.position_begin, int(feed.size()));
    const auto start = std::chrono::steady_clock::now();
    model_->forward_cached(feed, cache_, options_.window, t.cached.logits, &t.cached.forward, &scratch_);
    t.cached.seconds = seconds_since(start);
    t.cached.cache_bytes = cache_.bytes_held();
    t.cached.cache_bytes_allocated = cache_.bytes_allocated();
    add_totals(t.cached, previous_cached);
  } else {
    cache_.advance(int(feed.size()));  // positions still move on when only the uncached mode runs
  }
  if (options_.run_uncached) {
    prepare(t.uncached);
    const auto start = std::chrono::steady_clock::now();
    model_->forward_uncached(t.context_ids, options_.window, t.uncached.logits, &t.uncached.forward);
    t.uncached.seconds = seconds_since(start);
    add_totals(t.uncached, previous_uncached);
  }
  if (t.both_ran()) t.max_abs_logit_diff = (t.cached.logits - t.uncached.logits).cwiseAbs().maxCoeff();

  const RowVector& logits = t.cached.ran ? t.cached.logits : t.uncached.logits;
  t.next_id = choose_next(logits, t.step, &t.forced);
  t.next_text = tokenizer_->token_text(t.next_id);
  t.top = top_tokens(logits, 5, *tokenizer_);

  history_.push_back(std::move(t));
  undo_.push_back(std::move(undo));
  return history_.back();
}

bool DecodeSession::back() {
  if (history_.empty()) return false;
  const StepTrace& last = history_.back();
  cache_.truncate(last.position_begin);
  const Undo& undo = undo_.back();
  for (int l = 0; l < int(undo.keys.size()); ++l)
    for (int i = 0; i < int(undo.positions.size()); ++i)
      cache_.write(l, undo.positions[i], undo.keys[l].row(i).data(), undo.values[l].row(i).data());
  history_.pop_back();
  undo_.pop_back();
  return true;
}

}  // namespace kvscope
