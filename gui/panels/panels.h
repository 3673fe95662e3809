#pragma once
// The panels, one per file (panel_*.cpp). Each reads the PanelContext — StepTrace fields and views
// derived from them — draws, and pushes Actions. No panel calls the model or touches the session.
#include <cstdint>
#include <string>
#include <vector>

#include <imgui.h>

#include "core/engine/model/config.h"
#include "core/engine/session/tokenizer.h"
#include "core/lessons/batch_script.h"
#include "core/lessons/speculative_script.h"
#include "core/lessons/lesson.h"
#include "core/lessons/lesson_report.h"
#include "core/engine/session/trace.h"
#include "gui/views/caption.h"
#include "gui/draw/heatmap_renderer.h"
#include "gui/panels/drawn_text.h"
#include "gui/panels/frame_record.h"
#include "gui/draw/strip_atlas.h"
#include "gui/draw/theme.h"
#include "gui/views/trace_view.h"
#include "gui/app/ui_state.h"

namespace kvscope::gui {

// What the panels read and where they write. App::layout sets every field by name (C++17 has no
// designated initialisers): each has a default, so a field added here never shifts the others.
// Pointers are never null once set, except trace, report and caption before step 0.
struct PanelContext {
  // The traces shown and the views built from them.
  const std::vector<StepTrace>* history = nullptr;  // step 0..newest
  // cache_policy lessons: the first compared policy's run, step 0..newest (empty without one).
  const std::vector<StepTrace>* compared_history = nullptr;
  const StepTrace* trace = nullptr;                 // newest, or null before step 0
  PerPane<const PaneView*> panes;                   // null before step 0
  PerPane<PaneSource> sources;                      // what each pane shows (trace null before step 0)
  const CaptionView* caption = nullptr;             // the newest step's caption (null before step 0)
  // The model and the lesson.
  const ModelConfig* config = nullptr;
  std::string model_name;
  const std::vector<std::string>* prompt_texts = nullptr;  // tokens of the prompt that step 0 will feed
  const Lesson* lesson = nullptr;
  const LessonReport* report = nullptr;  // the newest step's lesson report (null before step 0)
  int lesson_steps = 0;                  // steps the lesson is written for
  const BatchScript* batch = nullptr;    // batch lessons: every round (step i shows round i)
  const SpeculativeScript* speculative = nullptr;  // speculative lessons: every round (step r + 1 shows round r)
  const Tokenizer* tokenizer = nullptr;
  std::uint64_t trace_version = 0;       // changes whenever a step is shown, taken back or reset
  // Look.
  const Palette* pal = nullptr;
  const Fonts* fonts = nullptr;
  // Work on the worker threads.
  bool busy = false;             // a step is running
  double busy_seconds = 0.0;
  int busy_step = 0;
  bool can_step = false;
  std::string why_not;           // why no further step fits
  bool loading_model = false;    // a model folder is loading; nothing steps meanwhile
  double loading_seconds = 0.0;
  // Written by the panels: the teacher's view state (hover, scroll), actions for the App, and what was
  // drawn where (the --state-file record; idle without it).
  const UiChoices* ui = nullptr;    // read-only: changed through actions
  const ViewState* view = nullptr;  // read-only: changed through actions (Hover, SetFocus, RowsScrolled)
  TextFields* fields = nullptr;     // the sidebar's input widgets edit these in place
  std::vector<Action>* actions = nullptr;
  FrameRecord* record = nullptr;
  StripAtlas* strips = nullptr;  // the frame's K/V value strips, one texture
};

void draw_controls_panel(PanelContext& c);
void draw_caption_panel(PanelContext& c);
void draw_tokens_panel(PanelContext& c);
void draw_legend(PanelContext& c);
void draw_kv_rows_panel(PanelContext& c, PaneKind pane, float height);
// Heights the pane needs: the layer map, what follows the row list, the whole pane for n rows.
float kv_layer_map_height(int n_layer);
float kv_pane_tail_height(int n_layer);
float kv_pane_height(const PanelContext& c, int n_rows);
float kv_header_extra_lines(const PanelContext& c);  // header lines past title and cache line (policy, GQA chips)
void draw_attention_panel(PanelContext& c, PaneKind pane, HeatmapRenderer& renderer, float height);
// The heatmap of a step whose weights were kept pooled (long contexts), under the panel's title and story.
void draw_pooled_attention(PanelContext& c, PaneKind pane, HeatmapRenderer& renderer, const ModeTrace& m);
void draw_chart_panel(PanelContext& c, float height);
// The caption box's content height at this width (the layout sizes the box to fit it).
float caption_content_height(PanelContext& c, float width);
// Lesson views drawn instead of the heatmaps: the repeated word's two rows, the cache calculator.
bool same_word_view_available(const Lesson& lesson, const LessonReport* report);
bool same_word_view_available(const PanelContext& c);
void draw_same_word_panel(PanelContext& c, float height);
void draw_calculator_panel(PanelContext& c, float height);
// Rotary models: one K row before and after rotation, a dial per pair of dimensions (View menu, O).
bool rotation_view_available(const PanelContext& c);
void draw_rotation_panel(PanelContext& c, float height);

// GQA / MQA: the query heads that share the shown KV head, each with its weights over the same rows (G).
bool query_group_view_available(const PanelContext& c);
void draw_query_group_panel(PanelContext& c, float height);

// Quantized caches: the oldest and newest held rows as stored, codes and pairs (Q).
bool quantized_view_available(const PanelContext& c);
void draw_quantized_panel(PanelContext& c, float height);

// Speculative lessons: the draft's and the target's caches side by side for the round shown, rows
// written, kept and rolled back; each guess with both models' probabilities (S).
bool speculation_view_available(const PanelContext& c);
void draw_speculation_panel(PanelContext& c, float height);
// The memory wall (panel_memory_wall.cpp): a memory_wall lesson's curves and table.
bool memory_wall_view_available(const PanelContext& c);
void draw_memory_wall_panel(PanelContext& c, float height);

// The lesson views chosen by name (lesson_views.cpp): the View menu's entries, their keys and heights.
struct LessonViewInfo {
  LessonView view;
  const char* menu;   // "Cache size calculator"
  const char* key;    // "C"
  float lines;        // the height it asks for under the panes, in lines
};
const std::vector<LessonViewInfo>& lesson_view_table();  // every view but the heatmaps
const LessonViewInfo* lesson_view_info(LessonView view);  // null for the heatmaps
bool lesson_view_available(const PanelContext& c, LessonView view);
void draw_lesson_view(PanelContext& c, LessonView view, float height);

// Batch lessons: the paged cache's block pool and each sequence's block table for the round shown.
bool block_pool_view_available(const PanelContext& c);
void draw_block_pool_panel(PanelContext& c, float height);
// Shared drawing helpers (draw_util.cpp).
// Queues an action; the App applies it before the next frame is laid out.
void push_action(PanelContext& c, ActionType type, int value = 0, std::string text = "");
void push_play_speed(PanelContext& c, float steps_per_second);
void push_focus(PanelContext& c, int row_end, int col_end);  // the heatmaps' focus window
// Largest |x| of n values (0 for none), in eight running maxima: one dependent chain would leave the
// loop waiting on each comparison (the K/V colour scale runs it over every row of both panes a frame).
float max_abs(const float* x, int n);
float line_height();  // one line of body text plus spacing
ScreenRect last_item_rect();  // the last ImGui item, in window coordinates (test hook rects)
// A marker box with the kind's glyph: colour + shape. Returns its size.
ImVec2 draw_row_marker(ImDrawList* dl, ImVec2 pos, RowKind kind, const Palette& pal, float size);
// Draw-list channels of a list of rows (ImDrawList::ChannelsSplit(kRowLayers)): every strip image lands
// between the rows' highlights and their text and outlines, so the list changes texture twice, not twice a
// row. Each change costs a software rasteriser (llvmpipe) a new state in every tile it touches.
enum RowLayer { kRowHighlights = 0, kRowImages = 1, kRowMarks = 2, kRowLayers = 3 };
// A strip of values, one cell each, coloured by viridis over [-scale, +scale] (one image of c.strips).
// `layered`: dl is split in RowLayer channels; the image goes to kRowImages, its outline to kRowMarks.
void draw_value_strip(PanelContext& c, ImDrawList* dl, ImVec2 pos, ImVec2 size, const float* values, int n,
                      float scale, bool dashed_border, bool layered = false);
// The heatmaps' colour bar beside a picture: viridis from `bottom` to `top` (weights 0 to 1 unless
// told), labelled at both ends; a logarithmic one says "log".
void draw_weight_scale(PanelContext& c, ImDrawList* dl, ImVec2 at, float height, double top = 1.0, double bottom = 0.0,
                       bool log = false);
// Marks `position` as hovered for the linked views when the last item is hovered.
void hover_position_if_item_hovered(PanelContext& c, int position);
std::string token_label(const StepTrace& t, int position);  // "'fast'" or "#123"
// What identifies a pane's figures in the ledger: {"mode": "cached" or "uncached"}, and {"policy": spec}
// when the pane shows a compared policy's run instead of the lesson's own.
nlohmann::json pane_context(const PanelContext& c, PaneKind pane);

}  // namespace kvscope::gui
