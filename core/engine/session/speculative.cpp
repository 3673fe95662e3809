#include "core/engine/session/speculative.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/softmax.h"
#include "core/engine/session/draft_verdict.h"
#include "core/engine/session/sampling.h"

namespace kvscope {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The probability of `id` under softmax(logits / temperature); temperature 1 when decoding is greedy
// (what the model itself says, for the view).
double probability_of(const float* logits, int n, int id, float temperature) {
  return softmax_double(logits, n, temperature > 0.0f ? temperature : 1.0)[std::size_t(id)];
}
}  // namespace

std::vector<int> SpeculativeRound::new_tokens() const {
  std::vector<int> out(drafted.begin(), drafted.begin() + accepted);
  out.push_back(next_id);
  return out;
}

SpeculativeDecoder::SpeculativeDecoder(std::shared_ptr<const Model> target, std::shared_ptr<const Model> draft,
                                       SpeculativeOptions options)
    : target_(std::move(target)),
      draft_(std::move(draft)),
      options_(options),
      target_cache_(target_->config(), options.block_size),
      draft_cache_(draft_->config(), options.block_size),
      rng_(options.seed) {
  if (target_->config().vocab_size != draft_->config().vocab_size)
    throw UsageError("the draft's vocabulary (" + std::to_string(draft_->config().vocab_size) +
                     " tokens) is not the target's (" + std::to_string(target_->config().vocab_size) +
                     "): a draft must share the target's tokenizer");
  if (options_.draft_tokens < 0) throw UsageError("--k must be at least 0, got " + std::to_string(options_.draft_tokens));
}

int SpeculativeDecoder::choose(const RowVector& logits, std::vector<double>* distribution) {
  if (options_.temperature <= 0.0f) return argmax(logits);
  *distribution = softmax_double(logits.data(), int(logits.size()), options_.temperature);
  return draw_index(*distribution, rng_.uniform());
}

void SpeculativeDecoder::start(const std::vector<int>& prompt, int max_new_tokens) {
  if (prompt.empty()) throw DataError("the prompt is empty");
  if (max_new_tokens < 1) throw UsageError("--max-new-tokens must be at least 1");
  for (const Model* m : {target_.get(), draft_.get()}) {
    const int context = m->config().context_length;
    if (int(prompt.size()) + max_new_tokens > context)
      throw DataError("the context length is " + std::to_string(context) + " tokens: a prompt of " +
                      std::to_string(prompt.size()) + " plus " + std::to_string(max_new_tokens) +
                      " new tokens needs " + std::to_string(prompt.size() + std::size_t(max_new_tokens)) +
                      " positions; use fewer tokens");
  }
  tokens_ = prompt;
  prompt_length_ = int(prompt.size());
  max_new_tokens_ = max_new_tokens;
  rounds_.clear();
  const auto start = std::chrono::steady_clock::now();
  RowVector logits;
  target_cache_.reserve(prompt_length_);
  target_->forward_cached(prompt, target_cache_.rows(), 0, logits, options_.record ? &prefill_record_ : nullptr,
                          &target_scratch_);
  prefill_logits_ = logits;
  draft_cache_.reserve(prompt_length_);
  RowVector draft_logits;
  draft_->forward_cached(prompt, draft_cache_.rows(), 0, draft_logits, nullptr, &draft_scratch_);
  target_passes_ = draft_passes_ = 1;
  std::vector<double> p;
  tokens_.push_back(choose(logits, &p));
  prefill_seconds_ = seconds_since(start);
}

const SpeculativeRound& SpeculativeDecoder::round() {
  if (tokens_.empty()) throw UsageError("start() the decoder with a prompt first");
  if (done()) throw UsageError("the run already has its " + std::to_string(max_new_tokens_) + " new tokens");
  SpeculativeRound r;
  r.first_position = target_cache_.next_position();
  r.pending = tokens_.back();
  const int k = std::min(options_.draft_tokens, max_new_tokens_ - new_token_count() - 1);
  const float t = options_.temperature;

  // The draft guesses k tokens one pass at a time, then writes the last guess's row.
  auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<double>> q(static_cast<std::size_t>(k));
  RowVector logits;
  int feed = r.pending;
  for (int i = 0; i <= k; ++i) {
    draft_cache_.reserve(1);
    draft_->forward_cached({feed}, draft_cache_.rows(), 0, logits, nullptr, &draft_scratch_);
    ++r.draft_passes;
    if (i == k) break;
    feed = choose(logits, &q[std::size_t(i)]);
    r.drafted.push_back(feed);
    r.draft_probability.push_back(probability_of(logits.data(), int(logits.size()), feed, t));
  }
  r.draft_rows_written = k + 1;
  r.draft_seconds = seconds_since(start);

  // The target reads all k + 1 positions in one pass.
  start = std::chrono::steady_clock::now();
  std::vector<int> fed = {r.pending};
  fed.insert(fed.end(), r.drafted.begin(), r.drafted.end());
  Matrix rows;
  target_cache_.reserve(k + 1);
  target_->forward_cached_all(fed, target_cache_.rows(), 0, rows, options_.record ? &r.target_record : nullptr,
                              &target_scratch_);
  r.target_rows_written = k + 1;
  const int vocab = int(rows.cols());
  for (int i = 0; i <= k; ++i) r.target_argmax.push_back(argmax(rows.row(i)));
  for (int i = 0; i < k; ++i)
    r.target_probability.push_back(probability_of(rows.row(i).data(), vocab, r.drafted[std::size_t(i)], t));

  // Judge the guesses in order; the first rejected one ends the round with the target's own token.
  r.next_id = -1;
  for (int i = 0; i < k && r.next_id < 0; ++i) {
    const int guess = r.drafted[std::size_t(i)];
    if (t <= 0.0f) {
      if (r.target_argmax[std::size_t(i)] == guess)
        ++r.accepted;
      else
        r.next_id = r.target_argmax[std::size_t(i)];
      continue;
    }
    const std::vector<double> p = softmax_double(rows.row(i).data(), vocab, t);
    const double u_accept = rng_.uniform(), u_resample = rng_.uniform();
    const DraftVerdict verdict = judge_draft(p, q[std::size_t(i)], guess, u_accept, u_resample);
    if (verdict.accepted)
      ++r.accepted;
    else
      r.next_id = verdict.token;
  }
  r.corrected = r.next_id >= 0;
  if (options_.record) r.kept_logits = rows.row(r.accepted);
  if (!r.corrected) {  // every guess kept: the target's token after the last one comes free
    std::vector<double> p;
    r.next_id = t <= 0.0f ? r.target_argmax[std::size_t(k)] : choose(rows.row(k), &p);
  }
  ++target_passes_;
  draft_passes_ += r.draft_passes;

  // Both caches forget the rejected guesses' rows: they keep P .. P + accepted.
  const int keep = r.first_position + r.accepted + 1;
  r.target_rows_rolled_back = target_cache_.truncate(keep);
  r.draft_rows_rolled_back = draft_cache_.truncate(keep);
  r.target_seconds = seconds_since(start);
  const std::vector<int> fresh = r.new_tokens();
  tokens_.insert(tokens_.end(), fresh.begin(), fresh.end());
  rounds_.push_back(std::move(r));
  return rounds_.back();
}

void SpeculativeDecoder::run() {
  while (!done()) round();
}

double SpeculativeDecoder::acceptance_rate() const {
  long drafted = 0, accepted = 0;
  for (const SpeculativeRound& r : rounds_) {
    drafted += long(r.drafted.size());
    accepted += r.accepted;
  }
  return drafted > 0 ? double(accepted) / double(drafted) : 0.0;
}

}  // namespace kvscope
