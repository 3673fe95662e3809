#pragma once
// SpeculativeDecoder: a small draft model guesses ahead, the target checks all its guesses in one
// pass, and the rows of rejected guesses are taken back from both caches.
// Both caches hold positions 0..P-1 when a round begins, and the round's first token (the target's
// own choice last round) is pending at P. A round:
//   draft   feeds the pending token, then each guess in turn: k one-token passes propose d1..dk, and
//           one more writes dk's row, so its cache grew k + 1 rows (P..P+k);
//   target  feeds [pending, d1..dk] in ONE pass (k + 1 rows, P..P+k) and reads its logits at every
//           position: row i is its next-token distribution after d_i;
//   judge   greedy: d_i is kept while it is the target's argmax after d_{i-1}; sampling: kept with
//           probability min(1, p/q), else replaced by a draw from max(0, p - q) (draft_verdict.h);
//           the target's own token after the last kept guess follows (a bonus when all k were kept);
//   rollback both caches forget the rows of rejected guesses: k - accepted rows each, so both hold
//           P..P+accepted, and the target's token is pending at P + accepted + 1.
// Greedy, the output is the target's own greedy decoding; sampled, each token is distributed as the
// target's. Any two models that share a vocabulary, any family; contiguous or paged caches.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/cache/rollback_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"

namespace kvscope {

struct SpeculativeOptions {
  int draft_tokens = 4;       // k: guesses per round
  float temperature = 0.0f;   // 0: greedy; > 0: speculative sampling at this temperature
  std::uint64_t seed = 0;
  int block_size = 0;         // 0: contiguous caches; > 0: each cache paged in blocks of this many positions
  bool record = false;        // keep the target's forward records (rows, attention) for a lesson's traces
};

struct SpeculativeRound {
  int first_position = 0;              // P: where the pending token goes; both caches held 0..P-1
  int pending = 0;                     // the token both models fed first
  std::vector<int> drafted;            // d1..dk (k may be lowered near the end of the run)
  std::vector<double> draft_probability;   // q(d_i): the draft's probability of each guess
  std::vector<double> target_probability;  // p(d_i): the target's, at the same position
  std::vector<int> target_argmax;      // the target's most likely token after pending, d1, ..., dk (k + 1)
  int accepted = 0;                    // leading guesses kept
  int next_id = 0;                     // the target's own token after them
  bool corrected = false;              // next_id replaced a rejected guess (false: a bonus after all k)
  int target_rows_written = 0, target_rows_rolled_back = 0;
  int draft_rows_written = 0, draft_rows_rolled_back = 0;
  int draft_passes = 0;                // forward calls of the draft (the target makes one per round)
  double draft_seconds = 0.0, target_seconds = 0.0;
  ForwardRecord target_record;         // with options.record: the target's pass over P..P+k
  RowVector kept_logits;               // with options.record: the target's logits after the last kept guess
  std::vector<int> new_tokens() const;  // the kept guesses, then next_id
};

class SpeculativeDecoder {
 public:
  // Throws UsageError when the vocabularies differ or draft_tokens < 0 (and for a paged MLA cache).
  SpeculativeDecoder(std::shared_ptr<const Model> target, std::shared_ptr<const Model> draft, SpeculativeOptions options);

  // Prefills both caches with the prompt; the target's choice after it is the first new token. Throws
  // DataError for an empty prompt, an id outside the vocabulary, or prompt + max_new_tokens positions
  // past either model's context.
  void start(const std::vector<int>& prompt, int max_new_tokens);
  bool done() const { return new_token_count() >= max_new_tokens_; }
  // One round; its k is lowered so that the run ends at exactly max_new_tokens.
  const SpeculativeRound& round();
  // Rounds until done().
  void run();

  const std::vector<int>& tokens() const { return tokens_; }  // prompt, then every new token
  int new_token_count() const { return int(tokens_.size()) - prompt_length_; }
  const std::vector<SpeculativeRound>& rounds() const { return rounds_; }
  int target_passes() const { return target_passes_; }  // prefill included
  int draft_passes() const { return draft_passes_; }
  // Passes plain cached decoding of the target needs for the same tokens: a prefill, then one per
  // new token after the first.
  int plain_passes() const { return new_token_count() > 0 ? new_token_count() : 0; }
  double acceptance_rate() const;  // kept guesses / guesses, over all rounds (0 with none)
  double prefill_seconds() const { return prefill_seconds_; }
  const ForwardRecord& prefill_record() const { return prefill_record_; }  // with options.record
  const RowVector& prefill_logits() const { return prefill_logits_; }
  const RollbackCache& target_cache() const { return target_cache_; }
  const RollbackCache& draft_cache() const { return draft_cache_; }
  const Model& target() const { return *target_; }
  const Model& draft() const { return *draft_; }
  const SpeculativeOptions& options() const { return options_; }

 private:
  int choose(const RowVector& logits, std::vector<double>* distribution);

  std::shared_ptr<const Model> target_, draft_;
  SpeculativeOptions options_;
  RollbackCache target_cache_, draft_cache_;
  ForwardScratch target_scratch_, draft_scratch_;
  SplitMix64 rng_;
  std::vector<int> tokens_;
  int prompt_length_ = 0;
  int max_new_tokens_ = 0;
  std::vector<SpeculativeRound> rounds_;
  int target_passes_ = 0, draft_passes_ = 0;
  double prefill_seconds_ = 0.0;
  ForwardRecord prefill_record_;
  RowVector prefill_logits_;
};

}  // namespace kvscope
