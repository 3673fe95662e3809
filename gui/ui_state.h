#pragma once
// UiState: what the teacher chose (layer, head, theme, pace...), and Action: what panels ask the App
// to do. Panels never change the session; they push actions, and the App applies them between frames.
#include <cstdint>
#include <string>

#include "gui/theme.h"

namespace kvscope::gui {

enum class ActionType {
  Step, Back, Reset, TogglePlay, SetPrompt, SetLayer, SetHead, SetWindow, SetTheme,
  FontBigger, FontSmaller, TogglePresentation, ToggleFullscreen, Screenshot, LoadLesson, LoadBuiltinLesson,
  ToggleCalculator, LoadModel
};

struct Action {
  ActionType type;
  int value = 0;       // layer, head, window, theme
  std::string text;    // lesson path, a built-in lesson's name, or a model folder ("": built-in model)
};

struct UiState {
  int layer = 0;
  int head = 0;
  int window = 0;                  // sliding window for the next SetPrompt (0 = none)
  ThemeId theme = ThemeId::Light;
  bool presentation = true;        // text at least height/49 px: 22 px at 1080 lines
  float font_scale = 1.0f;         // + / - on top of the mode's size
  bool playing = false;
  float steps_per_second = 1.0f;
  double last_play_step = 0.0;     // time of the last step Play made
  char prompt[512] = "";
  char continuation[512] = "";
  char lesson_path[512] = "";
  char model_path[512] = "";       // a Hugging Face GPT-2 folder; empty: the built-in model
  // The cache-size calculator (View menu, C; the cache_size lesson's steps set it).
  bool show_calculator = false;
  std::string calc_shape = "loaded";  // "loaded" or a name from known_cache_shapes()
  int calc_dtype = 0;                 // index into kv_dtypes()
  int calc_tokens = 0;                // 0: the positions the loaded model holds now
  std::string input_error;         // under the prompt field: why the prompt, continuation or window was refused
  std::string error;               // shown in the window (broken lesson or model folder); never a crash
  std::string status;              // last screenshot written, etc.
  std::uint64_t rows_scrolled[2] = {0, 0};  // trace version each pane's row list last scrolled to its end
  // Linked hover: the position under the pointer last frame (read) and this frame (written).
  int hover_position = -1;
  int next_hover_position = -1;
};

}  // namespace kvscope::gui
