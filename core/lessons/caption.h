#pragma once
// The one-line story of a step, written from its trace (what each mode computed and read back, and
// whether the two modes agree), and the small text helpers the window and the CLI share, so both
// print the same words and numbers.
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/session/trace.h"
#include "core/lessons/figure.h"

namespace kvscope {

struct Caption {
  std::string title;     // "Step 2 — 'fast' at position 2 · Decode"
  std::string uncached;  // "Without a cache: ..."
  std::string cached;    // "With a cache: ..."
  std::string badge;     // "cached = uncached ✓  max |Δlogit| 1.2e-07"
  std::string policy;    // under a cache policy: what it kept, which positions the kept keys carry, the cost
  bool modes_agree = true;
  bool lossy = false;     // a lossy cache policy: the modes are meant to differ, by the divergence measured
  std::vector<Figure> figures;  // every number in the strings above, declared as it was written
};

// tolerance: the largest max |Δlogit| between the modes still called equal (float32 rounding).
Caption make_caption(const StepTrace& trace, float tolerance = 1e-3f);

// "'fast'" — a token's text in quotes, or "#123" for models without a vocabulary.
std::string quoted(const std::string& token_text);
// "0–2" or "3" for a contiguous run; "0, 2, 5" otherwise.
std::string position_list(const std::vector<int>& positions);
// "3–7" (en dash), or "3" when first == last.
std::string position_range(int first, int last);
// Bytes on screen and in captions, one convention everywhere: decimal units as model cards quote
// cache sizes (1 kB = 1,000 B): "640 B", "3.07 kB", "4.29 GB". "12,345" for a count.
std::string format_bytes(std::int64_t bytes);
std::string format_count(std::int64_t n);
// The same for a byte count that is not whole (an average): "17.18 GB", "2.56 kB".
std::string format_decimal_bytes(double bytes);
// Which layers are global beside local ones: "global: L2, L5" ("" when every layer is global, or local).
std::string global_layers_text(const ModelConfig& config);
// A small difference for a caption: "0 (bitwise identical)" when exactly zero, else "3.0e-08".
std::string format_difference(double value);
// "1.2M", "35.4k", "812": multiply-adds in a sentence.
std::string format_short_count(double n);
// A measured time in milliseconds, three significant figures at most: "0.62 ms", "13.3 ms", "942 ms".
std::string format_milliseconds(double ms);

}  // namespace kvscope
