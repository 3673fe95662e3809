#pragma once
// BatchSession: many sequences, one paged cache. Every sequence has its own PagedCache (a block table)
// over one BlockPool; step() runs a round: each running sequence feeds what it has not cached yet (its
// prompt, minus any full blocks another sequence already holds with the same tokens; then one token a
// round) and chooses its next token. Between rounds a sequence may join, fork (a branch sharing every
// block), be truncated (rollback) or have a past token edited (its rows from there recomputed next
// round). Every round keeps the block tables, reference counts, a memory ledger and the block events
// in order: what a block-pool view draws, without re-deriving any of it.
//
// Each sequence computes exactly what a single-sequence DecodeSession (cached) would: the attention
// reads the same rows in the same order through the block table. Rows shared from another sequence
// were computed in that sequence's prefill, as part of a different number of rows: the matrix product
// may round them differently in the last bit, so such a sequence matches its single run within float
// rounding, and bit for bit when nothing was shared.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/cache/block_event.h"
#include "core/engine/cache/block_pool.h"
#include "core/engine/forward/model.h"
#include "core/engine/cache/paged_cache.h"
#include "core/engine/cache/prefix_index.h"
#include "core/engine/session/sampling.h"

namespace kvscope {

struct BatchOptions {
  int block_size = 16;        // positions per block (B)
  int pool_blocks = 0;        // blocks in the pool (>= 1)
  bool share_prefixes = true; // a joining sequence reuses full blocks holding its prompt's first tokens
  // What a contiguous cache would pre-allocate per sequence, for the ledger's comparison (0: the
  // model's context length, as a server reserving every sequence's maximum would).
  int contiguous_length = 0;
  // Each run's ForwardRecord in SequenceRound::forward (rows computed and reused per layer, keys read,
  // MACs), for the usual per-step panes of a selected sequence; with_attention adds the attention
  // weights and the K/V/Q rows computed (large: off by default).
  bool record_forward = false;
  bool record_attention = false;
};

enum class SequenceState {
  Waiting,   // joined; its prompt runs next round
  Running,   // decoding
  Done,      // has its tokens; lets go of its blocks at the start of the next round
  Finished,  // holds no blocks
};
const char* sequence_state_name(SequenceState state);  // "waiting", "running", "done", "finished"

// One sequence in one round.
struct SequenceRound {
  int sequence = 0;
  SequenceState state = SequenceState::Waiting;  // after the round
  bool ran = false;                // fed tokens this round
  int position_begin = 0;          // positions fed: [position_begin, position_end)
  int position_end = 0;
  std::vector<int> input_ids;      // ids fed
  int rows_shared = 0;             // prompt positions taken from other sequences' blocks when it joined
  int rows_recomputed = 0;         // fed positions this sequence had cached before (edit, rollback)
  int next_id = -1;                // token chosen this round (-1: none)
  RowVector logits;                // [vocab] of the newest position fed (empty when it did not run)
  ForwardRecord forward;           // with BatchOptions::record_forward, when it ran
  std::vector<int> block_table;    // after the round
  std::vector<int> tokens;         // after the round, prompt first (while running, the newest is not fed yet)
  int cached = 0;                  // positions cached after the round: tokens[0..cached) fill the block table
};

// Memory after a round. A row is one position's K and V in every layer (bytes_per_row bytes).
struct PoolLedger {
  int blocks_total = 0, blocks_in_use = 0, blocks_shared = 0, blocks_free = 0;
  std::int64_t rows_used = 0;        // distinct cached rows (a shared block's rows count once)
  std::int64_t rows_allocated = 0;   // rows of the blocks in use: blocks_in_use x B
  std::int64_t rows_wasted = 0;      // allocated but unused: only in sequences' last blocks
  std::int64_t rows_logical = 0;     // rows the sequences hold, each counted per sequence (no sharing)
  std::int64_t rows_contiguous = 0;  // contiguous buffers pre-allocated at the maximum length, per sequence holding rows
  std::int64_t bytes_per_row = 0;
};

struct BatchRound {
  int round = 0;
  std::vector<SequenceRound> sequences;  // every sequence so far, by id
  std::vector<int> ref_counts;           // per block id after the round; 0 = free
  PoolLedger ledger;
  std::vector<BlockEvent> events;        // since the previous round (joins, forks, edits, ...) and in it
  std::int64_t blocks_copied = 0;        // copy-on-write copies in this round's events
};

// Blocks one sequence needs at its longest with nothing shared: every position but its last token's
// (copy on write never needs more: a sequence's table has at most that many entries).
int blocks_without_sharing(int prompt_tokens, int max_new_tokens, int block_size);

class BatchSession {
 public:
  // Throws UsageError for a block size or pool size below 1.
  BatchSession(std::shared_ptr<const Model> model, BatchOptions options);

  // Joins a sequence (its prompt runs next round) and returns its id. Throws DataError for an empty
  // prompt, an id outside the vocabulary or prompt + max_new_tokens past the context length.
  int add_sequence(std::vector<int> prompt_ids, int max_new_tokens, SamplingOptions sampling = {});
  // A branch of a running sequence: the same tokens, every block shared, its own sampling from here (its
  // newest, not yet fed token is drawn again from the parent's last logits). Returns the branch's id.
  int fork(int sequence, SamplingOptions sampling);
  // Rollback: keep the first n_tokens tokens (1 <= n_tokens <= tokens). The cache keeps positions
  // < n_tokens - 1; the last kept token is fed again next round for the logits of the next choice.
  void truncate(int sequence, int n_tokens);
  // Replaces the token at `position`; the rows from there on are dropped and recomputed next round.
  void edit(int sequence, int position, int id);

  // Whether a round has work: a sequence to run, or blocks to let go of.
  bool can_step() const;
  // One round. Throws PoolFullError if the pool runs out of blocks; the session is then unusable.
  const BatchRound& step();

  const std::vector<BatchRound>& rounds() const { return rounds_; }
  int n_sequences() const { return int(sequences_.size()); }
  const std::vector<int>& tokens(int sequence) const { return at(sequence).tokens; }  // prompt first
  std::vector<int> prompt(int sequence) const;
  SequenceState state(int sequence) const { return at(sequence).state; }
  const PagedCache& cache(int sequence) const { return at(sequence).cache; }
  const BlockPool& pool() const { return *pool_; }
  const Model& model() const { return *model_; }
  const BatchOptions& options() const { return options_; }
  PoolLedger ledger() const;  // now

 private:
  struct Sequence {
    std::vector<int> tokens;   // prompt, then every token chosen (the newest not yet fed while running)
    int prompt_length = 0;
    int max_new_tokens = 0;
    SamplingOptions sampling;
    PagedCache cache;
    SequenceState state = SequenceState::Waiting;
    int high_water = 0;        // most positions ever cached: feeding below it is recomputing
    int rows_shared = 0;
    RowVector logits;          // of the newest position fed
  };
  const Sequence& at(int sequence) const;
  Sequence& at(int sequence);
  void admit(int id, std::vector<BlockEvent>& events);
  SequenceRound run_sequence(int id, std::vector<BlockEvent>& events);
  void register_full_blocks(const Sequence& s);
  void forget_freed(const std::vector<BlockEvent>& events, std::size_t from);
  int new_tokens(const Sequence& s) const { return int(s.tokens.size()) - s.prompt_length; }

  std::shared_ptr<const Model> model_;
  BatchOptions options_;
  std::unique_ptr<BlockPool> pool_;  // declared before sequences_: outlives every cache holding its blocks
  PrefixIndex prefixes_;
  std::vector<Sequence> sequences_;
  std::vector<BatchRound> rounds_;
  std::vector<BlockEvent> pending_;  // events since the last round
  ForwardScratch scratch_;
  bool broken_ = false;
};

}  // namespace kvscope
