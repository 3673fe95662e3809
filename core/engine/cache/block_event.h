#pragma once
// BlockEvent: one change to a paged cache's blocks or sequences, in the order it happened, so a view
// can replay a round (a block-pool view colours blocks by owner and marks these as they happen).
#include <string>
#include <vector>

namespace kvscope {

enum class BlockEventKind {
  Join,         // a sequence joined: position = prompt positions shared from other sequences, count = prompt tokens
  Allocate,     // block taken from the free list (reference count 1)
  Share,        // block held by one more sequence: count = its reference count now
  CopyOnWrite,  // a shared partial block about to be written: block = the copy, other = the original, count = rows copied
  Release,      // a sequence let go of a block others still hold: count = its reference count now
  Free,         // the last holder let go: block back on the free list
  Fork,         // sequence = the branch, other = the sequence it branched from, count = blocks shared
  Truncate,     // rollback: positions >= position forgotten, count = cached rows dropped
  Edit,         // token at position replaced: count = cached rows invalidated (recomputed next round)
  Finish,       // a sequence is done and lets go of its blocks: count = its tokens
};

const char* block_event_name(BlockEventKind kind);  // "join", "allocate", "share", "copy_on_write", ...

struct BlockEvent {
  BlockEventKind kind = BlockEventKind::Allocate;
  int sequence = -1;
  int block = -1;     // -1: no block (fork, truncate, edit, join, finish)
  int other = -1;     // copy_on_write: the block copied; fork: the parent sequence
  int position = -1;  // truncate, edit: the position; join: prompt positions shared
  int count = 0;      // see the kinds
};

}  // namespace kvscope
