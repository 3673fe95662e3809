#pragma once
// What the panes show, derived from StepTrace fields only (no ImGui, no GL: unit-tested directly).
// Row kinds: the uncached pane marks rows fed in earlier steps as recomputed (redundant work) and the
// rows fed this step as newly computed; the cached pane marks computed rows new, reused rows read from
// the cache and the window's evictions evicted.
#include <cstdint>
#include <string>
#include <vector>

#include "core/lessons/caption.h"
#include "core/engine/session/trace.h"

namespace kvscope::gui {

// RolledBack: written this step, then taken back (speculative decoding's rejected guesses).
enum class RowKind { NewlyComputed, Recomputed, ReadFromCache, Evicted, RolledBack };

// The two panes side by side: the same tokens run without a cache and with one.
enum class PaneKind { Uncached, Cached };
constexpr PaneKind kPaneKinds[] = {PaneKind::Uncached, PaneKind::Cached};  // left to right

// One T per pane (row lists, heatmaps, screen rects), indexed by PaneKind.
template <typename T>
struct PerPane {
  T items[2]{};
  T& operator[](PaneKind kind) { return items[int(kind)]; }
  const T& operator[](PaneKind kind) const { return items[int(kind)]; }
};


// What a pane draws: a step's trace and one of its modes. The left pane shows the step's uncached mode
// or, in a cache_policy lesson with "compare", a compared policy's cached mode on the same tokens (two
// policies side by side); the right pane shows the step's cached mode.
struct PaneSource {
  const StepTrace* trace = nullptr;
  bool cached = false;
  std::string policy;  // the compared policy's spec when the left pane shows one
  const ModeTrace& mode() const { return cached ? trace->cached : trace->uncached; }
};

const char* row_kind_glyph(RowKind kind);  // ✚ ↻ ✓ ✕ ↩ (UTF-8)
const char* row_kind_name(RowKind kind);   // "new", "recomputed", "from cache", "evicted", "rolled back"

struct RowView {
  int position = 0;
  RowKind kind = RowKind::NewlyComputed;
  const float* key = nullptr;    // d_model floats (all heads), or null when rows were not recorded
  const float* value = nullptr;
  int computed_at_step = -1;     // step whose trace holds these values
  // MLA, cached mode: the cache holds a latent row (+ the shared rotated key) per position, and K is
  // rebuilt from it every step as a temporary.
  const float* latent = nullptr;       // cache_key_dim floats, as cached at computed_at_step
  const float* rebuilt_key = nullptr;  // n_head x d_head floats rebuilt this step (null: not rebuilt)
};

struct PaneView {
  bool ran = false;
  std::vector<RowView> rows;                 // chosen layer, by position (evicted rows included)
  std::vector<std::vector<RowKind>> layers;  // every layer: kind of each position 0..t (map overview)
  std::int64_t rows_computed_step = 0;       // K/V rows projected this step, all layers
  std::int64_t rows_computed_per_layer = 0;
  std::int64_t rows_computed_total = 0;      // over steps 0..this one
  std::int64_t redundant_rows = 0;           // recomputed rows of earlier positions, all layers
  std::int64_t rows_read_newest = 0;         // K/V rows the newest query reads (t+1 without a window)
  std::int64_t rows_read_all_queries = 0;    // over every query row computed this step, per layer
  std::int64_t macs_step = 0, macs_total = 0;
  double seconds = 0.0;
  std::int64_t cache_bytes = 0;
  int latent_width = 0;       // MLA, cached mode: floats per cached latent row (0: K/V rows are cached)
  float latent_scale = 0.0f;  // largest |value| of the latent rows shown: their strips' colour scale
};

// history[step] is the trace shown; layer is clamped by the caller.
PaneView uncached_pane(const std::vector<StepTrace>& history, int step, int layer);
PaneView cached_pane(const std::vector<StepTrace>& history, int step, int layer);

// Whether the step kept its attention pooled (a long context: ForwardRecord::keep_for), in either mode.
bool attention_pooled(const StepTrace& t);

// A long context's newest query row (LayerRecord::newest_attention) over keys [begin, begin + count) in
// `columns` columns of equal share: each column's largest weight, -1 where the row read none of its keys
// (masked: outside the window, evicted, or later). count is clamped to the keys recorded.
std::vector<float> newest_row_columns(const ForwardRecord& forward, int layer, int head, int begin, int count, int columns);

// Shared with kvscope-cli (core/caption.h): quoted, position_list, format_bytes, format_count.
using kvscope::format_bytes;
using kvscope::format_count;
using kvscope::position_list;
using kvscope::quoted;
std::string format_seconds(double seconds);
// A probability as a percentage a class can read: whole percents from 1 %, one decimal below, and
// "<0.1%" under that (an untrained model's top choices are near 1/vocabulary, not 0 %).
std::string format_percent(double probability);

}  // namespace kvscope::gui
