#pragma once
// UiState: what the teacher chose (layer, head, theme, pace...: UiChoices, read-only to panels), the
// sidebar's text fields (TextFields: ImGui's input widgets edit them in place), and what the pointer
// did to the view (ViewState: hover, zoom, scroll; changed only by actions). Action: what panels ask
// the App to do. Panels never change the session; they push actions, and the App applies them
// between frames.
#include <cstdint>
#include <string>

#include "core/lessons/lesson.h"
#include "gui/draw/theme.h"
#include "gui/views/trace_view.h"

namespace kvscope::gui {

enum class ActionType {
  Step, Back, Reset, TogglePlay, SetPlaySpeed, SetPrompt, SetLayer, SetHead, SetWindow, SetTheme,
  FontBigger, FontSmaller, TogglePresentation, ToggleFullscreen, Screenshot, LoadLesson, LoadBuiltinLesson,
  ToggleView, ToggleComparedPane, SetCalculatorShape, SetCalculatorDtype, SetCalculatorTokens, LoadModel,
  LoadPreset,
  // The view: the position under the pointer (for the next frame's linked highlight), the heatmaps'
  // focus window (value: one past its last row, value2: past its last key), a pane's row list scrolled
  // to the newest step (value: the pane, value2: the trace version it scrolled for).
  Hover, SetFocus, RowsScrolled,
  // Long contexts: the newest query's strip of keys (value: first key, value2: keys shown; 0: all) and
  // the pooled heatmap's cells (value 1: their mean, 0: their largest weight).
  SetStripRange, SetPooledMean
};

struct Action {
  ActionType type;
  int value = 0;       // layer, head, window, theme, calculator dtype index or tokens, position, pane, LessonView
  std::string text;    // lesson path, a built-in lesson's name, a model folder ("": built-in model), a cache shape
  float amount = 0.0f;  // play speed in steps per second
  int value2 = 0;       // SetFocus: the focus window's key end; RowsScrolled: the trace version
};

struct UiChoices {
  int layer = 0;
  int head = 0;
  int window = 0;                  // the Window field: sliding window for the next SetPrompt (0 = none)
  ThemeId theme = ThemeId::Light;
  bool presentation = true;        // text at least height/49 px: 22 px at 1080 lines
  float font_scale = 1.0f;         // + / - on top of the mode's size
  bool playing = false;
  float steps_per_second = 1.0f;
  double last_play_step = 0.0;     // time of the last step Play made
  // Under the panes: the heatmaps or one lesson view (View menu; a lesson's kind or step chooses unless
  // --view or the menu did).
  LessonView below = LessonView::Heatmaps;
  // The cache-size calculator's settings (the cache_size lesson's steps set them).
  std::string calc_shape = "loaded";  // "loaded" or a name from known_cache_shapes()
  int calc_dtype = 0;                 // index into kv_dtypes()
  int calc_tokens = 0;                // 0: the positions the loaded model holds now
  bool show_compared = false;      // cache_policy lessons with "compare": the left pane shows that policy (View menu, L)
  std::string input_error;         // under the prompt field: why the prompt, continuation or window was refused
  std::string error;               // shown in the window (broken lesson or model folder); never a crash
  std::string status;              // last screenshot written, etc.
};

struct TextFields {
  char prompt[512] = "";
  char continuation[512] = "";
  char policy[64] = "";            // the Policy field: cache policy of the cached pane for the next SetPrompt
  char lesson_path[512] = "";
  char model_path[512] = "";       // a Hugging Face GPT-2 folder; empty: the built-in model
};

struct ViewState {
  // The position under the pointer last frame (the linked highlight everywhere), -1: none.
  int hover_position = -1;
  // The heatmaps' focus window (both panes share it) when the whole matrix would make cells too small:
  // one past its last query row and last key; -1 follows the newest (reset by every step shown).
  int focus_row_end = -1;
  int focus_col_end = -1;
  PerPane<std::uint64_t> rows_scrolled;  // trace version each pane's row list last scrolled to its end
  // Long contexts (a pooled heatmap): the newest query's strip shows keys [strip_begin, strip_begin +
  // strip_keys) (strip_keys 0: every key), and the cells show their mean weight instead of their largest.
  int strip_begin = 0, strip_keys = 0;
  bool pooled_mean = false;
};

// The App's whole state of the window; the panels see its parts through PanelContext.
struct UiState : UiChoices, TextFields, ViewState {};

}  // namespace kvscope::gui
