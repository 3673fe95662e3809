#pragma once
// The one-line story of a step, written from its trace: what each mode computed and read back, and
// whether the two modes agree.
#include <string>

#include "core/trace.h"

namespace kvscope::gui {

struct Caption {
  std::string title;     // "Step 2 — 'fast' at position 2 · Decode"
  std::string uncached;  // "Without a cache: ..."
  std::string cached;    // "With a cache: ..."
  std::string badge;     // "cached = uncached ✓  max |Δlogit| 1.2e-07"
  bool modes_agree = true;
};

// tolerance: the largest max |Δlogit| between the modes still called equal (float32 rounding).
Caption make_caption(const StepTrace& trace, float tolerance = 1e-3f);

}  // namespace kvscope::gui
