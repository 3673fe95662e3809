#include "core/trace.h"

namespace kvscope {

std::int64_t ModeTrace::rows_computed() const {
  std::int64_t n = 0;
  for (const LayerRecord& l : forward.layers) n += std::int64_t(l.computed_rows.size());
  return n;
}

}  // namespace kvscope
