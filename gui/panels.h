#pragma once
// The panels, one per file (panel_*.cpp). Each reads the PanelContext — StepTrace fields and views
// derived from them — draws, and pushes Actions. No panel calls the model or touches the session.
#include <cstdint>
#include <string>
#include <vector>

#include <imgui.h>

#include "core/config.h"
#include "core/lesson.h"
#include "core/lesson_report.h"
#include "core/trace.h"
#include "gui/heatmap_renderer.h"
#include "gui/theme.h"
#include "gui/trace_view.h"
#include "gui/ui_state.h"

namespace kvscope::gui {

struct ScreenRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// Where things were drawn this frame (for the test hook's pixel checks).
struct LayoutRects {
  ScreenRect pane[2];     // [0] without cache, [1] with cache: the row list and layer map
  ScreenRect heatmap[2];  // the heatmap images
  ScreenRect tokens;
  ScreenRect caption;        // the caption box (step story, lesson lines, note)
  float caption_overflow = 0;  // caption content past the box (0: everything visible)
  ScreenRect lesson_view;    // the same-word rows or the calculator, when shown
  ScreenRect menu_lessons;   // the Lessons menu's title in the menu bar
  ScreenRect prompt_field, continuation_field, model_field;  // sidebar fields (test hooks)
  std::vector<ScreenRect> menu_items;  // its items while open (test hook)
};

struct PanelContext {
  const std::vector<StepTrace>& history;  // the traces shown, step 0..newest
  const StepTrace* trace;                 // newest, or null before step 0
  const PaneView* panes[2];               // [0] without cache, [1] with cache (null before step 0)
  const ModelConfig& config;
  const std::string& model_name;
  const std::vector<std::string>& prompt_texts;  // tokens of the prompt that step 0 will feed
  const Lesson& lesson;
  const LessonReport* report;  // the newest step's lesson report (null before step 0)
  int lesson_steps;            // steps the lesson is written for
  UiState& ui;
  const Palette& pal;
  const Fonts& fonts;
  std::vector<Action>& actions;
  bool busy;              // a step is running on the worker thread
  double busy_seconds;
  int busy_step;
  bool can_step;
  std::string why_not;    // why no further step fits
  std::uint64_t trace_version;
  LayoutRects& rects;
  bool loading_model;     // a model folder is loading on a worker thread; nothing steps meanwhile
  double loading_seconds;
};

void draw_controls_panel(PanelContext& c);
void draw_caption_panel(PanelContext& c);
void draw_tokens_panel(PanelContext& c);
void draw_legend(PanelContext& c);
void draw_kv_rows_panel(PanelContext& c, int pane, float height);
// Heights the pane needs: the layer map, what follows the row list, the whole pane for n rows.
float kv_layer_map_height(int n_layer);
float kv_pane_tail_height(int n_layer);
float kv_pane_height(int n_rows, int n_layer);
void draw_attention_panel(PanelContext& c, int pane, HeatmapRenderer& renderer, float height);
void draw_chart_panel(PanelContext& c, float height);
// The caption box's content height at this width (the layout sizes the box to fit it).
float caption_content_height(PanelContext& c, float width);
// Lesson views drawn instead of the heatmaps: the repeated word's two rows, the cache calculator.
bool same_word_view_available(const PanelContext& c);
void draw_same_word_panel(PanelContext& c, float height);
void draw_calculator_panel(PanelContext& c, float height);

// Shared drawing helpers (draw_util.cpp).
float line_height();  // one line of body text plus spacing
ScreenRect last_item_rect();  // the last ImGui item, in window coordinates (test hook rects)
// A marker box with the kind's glyph: colour + shape. Returns its size.
ImVec2 draw_row_marker(ImDrawList* dl, ImVec2 pos, RowKind kind, const Palette& pal, float size);
// A strip of values, one cell each, coloured by viridis over [-scale, +scale].
void draw_value_strip(ImDrawList* dl, ImVec2 pos, ImVec2 size, const float* values, int n, float scale,
                      const Palette& pal, bool dashed_border);
// Marks `position` as hovered for the linked views when the last item is hovered.
void hover_position_if_item_hovered(UiState& ui, int position);
std::string token_label(const StepTrace& t, int position);  // "'fast'" or "#123"

}  // namespace kvscope::gui
