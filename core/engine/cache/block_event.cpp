#include "core/engine/cache/block_event.h"

namespace kvscope {

const char* block_event_name(BlockEventKind kind) {
  switch (kind) {
    case BlockEventKind::Join: return "join";
    case BlockEventKind::Allocate: return "allocate";
    case BlockEventKind::Share: return "share";
    case BlockEventKind::CopyOnWrite: return "copy_on_write";
    case BlockEventKind::Release: return "release";
    case BlockEventKind::Free: return "free";
    case BlockEventKind::Fork: return "fork";
    case BlockEventKind::Truncate: return "truncate";
    case BlockEventKind::Edit: return "edit";
    case BlockEventKind::Finish: return "finish";
  }
  return "?";
}

}  // namespace kvscope
