#include "core/engine/session/batch_session.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <utility>

#include "core/engine/kernels/error.h"

namespace kvscope {

int blocks_without_sharing(int prompt_tokens, int max_new_tokens, int block_size) {
  return (prompt_tokens + max_new_tokens - 1 + block_size - 1) / block_size;
}

const char* sequence_state_name(SequenceState state) {
  switch (state) {
    case SequenceState::Waiting: return "waiting";
    case SequenceState::Running: return "running";
    case SequenceState::Done: return "done";
    case SequenceState::Finished: return "finished";
  }
  return "?";
}

BatchSession::BatchSession(std::shared_ptr<const Model> model, BatchOptions options)
    : model_(std::move(model)), options_(options) {
  const ModelConfig& c = model_->config();
  if (c.mla()) throw UsageError("the paged pool holds K/V rows; an MLA model caches latent rows (use generate)");
  if (options_.block_size < 1)
    throw UsageError("block size must be a positive integer, got " + std::to_string(options_.block_size));
  if (options_.pool_blocks < 1)
    throw UsageError("the block pool needs at least one block, got " + std::to_string(options_.pool_blocks));
  if (options_.contiguous_length <= 0) options_.contiguous_length = c.context_length;
  pool_ = std::make_unique<BlockPool>(c.n_layer, c.kv_dim(), options_.block_size, options_.pool_blocks);
}

const BatchSession::Sequence& BatchSession::at(int sequence) const {
  if (sequence < 0 || sequence >= n_sequences()) throw UsageError("no sequence " + std::to_string(sequence));
  return sequences_[std::size_t(sequence)];
}

BatchSession::Sequence& BatchSession::at(int sequence) {
  return const_cast<Sequence&>(static_cast<const BatchSession*>(this)->at(sequence));
}

std::vector<int> BatchSession::prompt(int sequence) const {
  const Sequence& s = at(sequence);
  return std::vector<int>(s.tokens.begin(), s.tokens.begin() + s.prompt_length);
}

int BatchSession::add_sequence(std::vector<int> prompt_ids, int max_new_tokens, SamplingOptions sampling) {
  const ModelConfig& c = model_->config();
  if (prompt_ids.empty()) throw DataError("the prompt is empty: give at least one token");
  if (max_new_tokens < 1) throw UsageError("max new tokens must be a positive integer, got " + std::to_string(max_new_tokens));
  for (int id : prompt_ids)
    if (id < 0 || id >= c.vocab_size)
      throw DataError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                      std::to_string(c.vocab_size - 1) + ")");
  // The last token chosen is never fed: positions 0..prompt + new - 2 are computed.
  const int positions = int(prompt_ids.size()) + max_new_tokens - 1;
  if (positions > c.context_length)
    throw DataError("the context length is " + std::to_string(c.context_length) + " tokens: a prompt of " +
                    std::to_string(prompt_ids.size()) + " plus " + std::to_string(max_new_tokens) +
                    " new tokens needs " + std::to_string(positions) + " positions; use fewer tokens");
  Sequence s;
  s.prompt_length = int(prompt_ids.size());
  s.tokens = std::move(prompt_ids);
  s.max_new_tokens = max_new_tokens;
  s.sampling = sampling;
  s.cache = PagedCache(*pool_, n_sequences());
  sequences_.push_back(std::move(s));
  return n_sequences() - 1;
}

int BatchSession::fork(int sequence, SamplingOptions sampling) {
  Sequence& parent = at(sequence);
  if (parent.state != SequenceState::Running && parent.state != SequenceState::Done)
    throw UsageError("sequence " + std::to_string(sequence) + " is " + sequence_state_name(parent.state) +
                     ": only a sequence that has run can fork");
  Sequence branch;
  branch.tokens = parent.tokens;
  branch.prompt_length = parent.prompt_length;
  branch.max_new_tokens = parent.max_new_tokens;
  branch.sampling = sampling;
  branch.cache = parent.cache.fork(n_sequences(), pending_);
  branch.state = parent.state;
  branch.high_water = parent.cache.next_position();
  branch.logits = parent.logits;
  // The newest token was chosen by the parent's sampling: the branch draws its own from the same logits.
  if (int(branch.tokens.size()) > branch.cache.next_position() && branch.logits.size() > 0)
    branch.tokens.back() = sample_token(branch.logits, sampling, new_tokens(branch) - 1);
  sequences_.push_back(std::move(branch));
  return n_sequences() - 1;
}

void BatchSession::truncate(int sequence, int n_tokens) {
  Sequence& s = at(sequence);
  if (s.state == SequenceState::Finished) throw UsageError("sequence " + std::to_string(sequence) + " has finished");
  if (n_tokens < 1 || n_tokens > int(s.tokens.size()))
    throw UsageError("truncate: keep 1.." + std::to_string(s.tokens.size()) + " tokens, got " + std::to_string(n_tokens));
  const std::size_t first = pending_.size();
  const int cut = std::min(n_tokens - 1, s.cache.next_position());
  const int dropped = s.cache.truncate(cut, pending_);
  pending_.insert(pending_.begin() + std::ptrdiff_t(first), {BlockEventKind::Truncate, sequence, -1, -1, n_tokens, dropped});
  forget_freed(pending_, first);
  s.tokens.resize(std::size_t(n_tokens));
  s.prompt_length = std::min(s.prompt_length, n_tokens);
  if (s.state == SequenceState::Done && new_tokens(s) < s.max_new_tokens) s.state = SequenceState::Running;
}

void BatchSession::edit(int sequence, int position, int id) {
  Sequence& s = at(sequence);
  if (s.state == SequenceState::Finished) throw UsageError("sequence " + std::to_string(sequence) + " has finished");
  if (position < 0 || position >= int(s.tokens.size()))
    throw UsageError("edit: position " + std::to_string(position) + " is not in 0.." + std::to_string(s.tokens.size() - 1));
  if (id < 0 || id >= model_->config().vocab_size)
    throw DataError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                    std::to_string(model_->config().vocab_size - 1) + ")");
  const std::size_t first = pending_.size();
  const int cut = std::min(position, s.cache.next_position());
  const int invalidated = s.cache.truncate(cut, pending_);
  pending_.insert(pending_.begin() + std::ptrdiff_t(first), {BlockEventKind::Edit, sequence, -1, -1, position, invalidated});
  forget_freed(pending_, first);
  s.tokens[std::size_t(position)] = id;
  if (s.state == SequenceState::Done) s.state = SequenceState::Running;
}

bool BatchSession::can_step() const {
  for (const Sequence& s : sequences_)
    if (s.state != SequenceState::Finished) return true;
  return false;
}

// A block freed (or about to be overwritten) no longer holds the prefix it was indexed under.
void BatchSession::forget_freed(const std::vector<BlockEvent>& events, std::size_t from) {
  for (std::size_t i = from; i < events.size(); ++i)
    if (events[i].kind == BlockEventKind::Free) prefixes_.remove_block(events[i].block);
}

// A joining sequence takes the full blocks other sequences computed for the same first tokens. At
// least its last prompt token is left to feed: its logits choose the first new token.
void BatchSession::admit(int id, std::vector<BlockEvent>& events) {
  Sequence& s = at(id);
  const int b = options_.block_size;
  std::vector<int> shared;
  if (options_.share_prefixes) {
    const int max_blocks = (int(s.tokens.size()) - 1) / b;
    int parent = -1;
    for (int k = 0; k < max_blocks; ++k) {
      const std::vector<int> block_tokens(s.tokens.begin() + k * b, s.tokens.begin() + (k + 1) * b);
      parent = prefixes_.find(parent, block_tokens);
      if (parent < 0) break;
      shared.push_back(parent);
    }
  }
  events.push_back({BlockEventKind::Join, id, -1, -1, int(shared.size()) * b, int(s.tokens.size())});
  s.cache.share_prefix(shared, events);
  s.rows_shared = int(shared.size()) * b;
  s.high_water = s.rows_shared;
  s.state = SequenceState::Running;
}

// Indexes the sequence's full blocks not indexed yet, each under its tokens and the block before it.
void BatchSession::register_full_blocks(const Sequence& s) {
  const int b = options_.block_size;
  const std::vector<int>& table = s.cache.block_table();
  for (int k = 0; k < s.cache.next_position() / b; ++k) {
    if (prefixes_.contains_block(table[std::size_t(k)])) continue;
    const std::vector<int> block_tokens(s.tokens.begin() + k * b, s.tokens.begin() + (k + 1) * b);
    prefixes_.add(k > 0 ? table[std::size_t(k - 1)] : -1, block_tokens, table[std::size_t(k)]);
  }
}

SequenceRound BatchSession::run_sequence(int id, std::vector<BlockEvent>& events) {
  Sequence& s = at(id);
  SequenceRound r;
  r.sequence = id;
  r.position_begin = s.cache.next_position();
  r.position_end = int(s.tokens.size());
  assert(r.position_end > r.position_begin && "a running sequence has a token to feed");
  r.input_ids.assign(s.tokens.begin() + r.position_begin, s.tokens.end());
  // Writing into a block this sequence alone holds (after a rollback into it) changes what it holds.
  const int k = r.position_begin / options_.block_size;
  const std::vector<int>& table = s.cache.block_table();
  if (k < int(table.size()) && pool_->ref_count(table[std::size_t(k)]) == 1) prefixes_.remove_block(table[std::size_t(k)]);
  const std::size_t first = events.size();
  s.cache.reserve(r.position_end - r.position_begin, events);
  forget_freed(events, first);
  r.forward.with_attention = r.forward.with_rows = options_.record_attention;
  ForwardRecord* record = options_.record_forward || options_.record_attention ? &r.forward : nullptr;
  model_->forward_cached(r.input_ids, s.cache, 0, s.logits, record, &scratch_);
  r.ran = true;
  r.logits = s.logits;
  r.rows_recomputed = std::max(0, std::min(r.position_end, s.high_water) - r.position_begin);
  s.high_water = std::max(s.high_water, r.position_end);
  if (options_.share_prefixes) register_full_blocks(s);
  if (new_tokens(s) < s.max_new_tokens) {
    r.next_id = sample_token(s.logits, s.sampling, new_tokens(s));
    s.tokens.push_back(r.next_id);
  }
  if (new_tokens(s) >= s.max_new_tokens) s.state = SequenceState::Done;
  return r;
}

const BatchRound& BatchSession::step() {
  if (broken_) throw UsageError("the batch ran out of blocks in an earlier round: start a new session");
  BatchRound round;
  round.round = int(rounds_.size());
  std::vector<BlockEvent>& events = round.events;
  events = std::move(pending_);
  pending_.clear();
  std::vector<SequenceRound> ran(sequences_.size());
  try {
    for (int id = 0; id < n_sequences(); ++id) {
      Sequence& s = sequences_[std::size_t(id)];
      if (s.state != SequenceState::Done) continue;
      const std::size_t first = events.size();
      events.push_back({BlockEventKind::Finish, id, -1, -1, -1, int(s.tokens.size())});
      s.cache.truncate(0, events);
      forget_freed(events, first);
      s.state = SequenceState::Finished;
    }
    for (int id = 0; id < n_sequences(); ++id) {
      Sequence& s = sequences_[std::size_t(id)];
      if (s.state == SequenceState::Waiting) admit(id, events);
      if (s.state == SequenceState::Running) ran[std::size_t(id)] = run_sequence(id, events);
      if (ran[std::size_t(id)].ran) ran[std::size_t(id)].rows_shared = s.rows_shared;
    }
  } catch (const PoolFullError& e) {
    broken_ = true;
    throw PoolFullError(std::string(e.what()) + " (round " + std::to_string(round.round) + ")");
  }
  for (int id = 0; id < n_sequences(); ++id) {
    const Sequence& s = sequences_[std::size_t(id)];
    SequenceRound& r = ran[std::size_t(id)];
    r.sequence = id;
    r.state = s.state;
    r.block_table = s.cache.block_table();
    r.tokens = s.tokens;
    r.cached = s.cache.next_position();
    if (!r.ran) r.rows_shared = 0;
  }
  round.sequences = std::move(ran);
  round.ref_counts = pool_->ref_counts();
  round.ledger = ledger();
  for (const BlockEvent& e : round.events) round.blocks_copied += e.kind == BlockEventKind::CopyOnWrite;
  rounds_.push_back(std::move(round));
  return rounds_.back();
}

PoolLedger BatchSession::ledger() const {
  PoolLedger l;
  const int b = options_.block_size;
  l.blocks_total = pool_->n_blocks();
  l.blocks_in_use = pool_->blocks_in_use();
  l.blocks_shared = pool_->blocks_shared();
  l.blocks_free = pool_->blocks_free();
  l.bytes_per_row = pool_->bytes_per_row();
  std::map<int, int> filled;  // block -> rows filled, the most any holder has written
  for (const Sequence& s : sequences_) {
    const std::vector<int>& table = s.cache.block_table();
    if (table.empty()) continue;
    l.rows_logical += s.cache.next_position();
    l.rows_contiguous += options_.contiguous_length;
    for (int k = 0; k < int(table.size()); ++k) {
      int& rows = filled[table[std::size_t(k)]];
      rows = std::max(rows, s.cache.rows_in_block(k));
    }
  }
  for (const auto& entry : filled) l.rows_used += entry.second;
  l.rows_allocated = std::int64_t(l.blocks_in_use) * b;
  l.rows_wasted = l.rows_allocated - l.rows_used;
  return l;
}

}  // namespace kvscope
