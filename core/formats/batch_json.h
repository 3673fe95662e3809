#pragma once
// The JSON form of a BatchSession's rounds (kvscope-cli batch --json, and what a block-pool view
// exports): per round the block tables, reference counts, ledger and events.
#include <nlohmann/json.hpp>

#include "core/engine/session/batch_session.h"

namespace kvscope {

// {"kind": "copy_on_write", "sequence": 2, "block": 7, "from_block": 3, "rows_copied": 2}: the fields
// each kind has (core/engine/cache/block_event.h), named for what they are.
nlohmann::json block_event_to_json(const BlockEvent& event);
// {"round", "block_tables", "ref_counts", "blocks_in_use", "blocks_shared", "blocks_free", "rows_used",
//  "rows_allocated", "rows_wasted", "rows_logical", "rows_contiguous", "blocks_copied", "events",
//  "sequences": [{"sequence", "state", "fed": [begin, end], "input_ids", "rows_shared",
//  "rows_recomputed", "next_id"}]}. with_logits adds each sequence's logits.
nlohmann::json batch_round_to_json(const BatchRound& round, bool with_logits = false);

}  // namespace kvscope
