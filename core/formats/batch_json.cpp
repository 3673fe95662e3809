#include "core/formats/batch_json.h"

#include <vector>

namespace kvscope {

nlohmann::json block_event_to_json(const BlockEvent& e) {
  nlohmann::json j;
  j["kind"] = block_event_name(e.kind);
  j["sequence"] = e.sequence;
  switch (e.kind) {
    case BlockEventKind::Join:
      j["prompt_tokens"] = e.count;
      j["rows_shared"] = e.position;
      break;
    case BlockEventKind::Allocate:
    case BlockEventKind::Free:
      j["block"] = e.block;
      break;
    case BlockEventKind::Share:
    case BlockEventKind::Release:
      j["block"] = e.block;
      j["ref_count"] = e.count;
      break;
    case BlockEventKind::CopyOnWrite:
      j["block"] = e.block;
      j["from_block"] = e.other;
      j["rows_copied"] = e.count;
      break;
    case BlockEventKind::Fork:
      j["from_sequence"] = e.other;
      j["blocks_shared"] = e.count;
      break;
    case BlockEventKind::Truncate:
      j["keep_tokens"] = e.position;
      j["rows_dropped"] = e.count;
      break;
    case BlockEventKind::Edit:
      j["position"] = e.position;
      j["rows_invalidated"] = e.count;
      break;
    case BlockEventKind::Finish:
      j["tokens"] = e.count;
      break;
  }
  return j;
}

nlohmann::json batch_round_to_json(const BatchRound& round, bool with_logits) {
  nlohmann::json j;
  j["round"] = round.round;
  nlohmann::json tables = nlohmann::json::array(), sequences = nlohmann::json::array();
  for (const SequenceRound& s : round.sequences) {
    tables.push_back(s.block_table);
    nlohmann::json q;
    q["sequence"] = s.sequence;
    q["state"] = sequence_state_name(s.state);
    if (s.ran) {
      q["fed"] = {s.position_begin, s.position_end};
      q["input_ids"] = s.input_ids;
      q["rows_shared"] = s.rows_shared;
      q["rows_recomputed"] = s.rows_recomputed;
      if (s.next_id >= 0) q["next_id"] = s.next_id;
      if (with_logits) q["logits"] = std::vector<float>(s.logits.data(), s.logits.data() + s.logits.size());
    }
    sequences.push_back(q);
  }
  const PoolLedger& l = round.ledger;
  j["block_tables"] = tables;
  j["ref_counts"] = round.ref_counts;
  j["blocks_in_use"] = l.blocks_in_use;
  j["blocks_shared"] = l.blocks_shared;
  j["blocks_free"] = l.blocks_free;
  j["rows_used"] = l.rows_used;
  j["rows_allocated"] = l.rows_allocated;
  j["rows_wasted"] = l.rows_wasted;
  j["rows_logical"] = l.rows_logical;
  j["rows_contiguous"] = l.rows_contiguous;
  j["blocks_copied"] = round.blocks_copied;
  nlohmann::json events = nlohmann::json::array();
  for (const BlockEvent& e : round.events) events.push_back(block_event_to_json(e));
  j["events"] = events;
  j["sequences"] = sequences;
  return j;
}

}  // namespace kvscope
