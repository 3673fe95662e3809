#pragma once
// App: owns the model, the lesson run (a decode session or a lesson's script), the traces shown and
// the UiState. Each frame it turns keys into actions, applies them (between frames, never while a
// step runs), then lays out the panels.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/lesson.h"
#include "core/lesson_run.h"
#include "core/model_source.h"
#include "gui/model_loader.h"
#include "gui/panels.h"
#include "gui/step_runner.h"
#include "gui/theme.h"
#include "gui/trace_view.h"
#include "gui/ui_state.h"

namespace kvscope::gui {

struct AppOptions {
  std::string preset = "demo";
  std::string model_dir;        // Hugging Face GPT-2 folder (overrides preset)
  std::string lesson_path;      // a lesson file or a built-in lesson's name; empty: the default lesson
  std::string prompt;           // overrides the lesson's prompt when set
  std::string continuation;     // overrides the lesson's continuation when has_continuation
  bool has_prompt = false, has_continuation = false;
  int layer = -1, head = -1, window = -1;  // -1: from the lesson
  int steps = -1;               // headless: run steps 0..steps, then screenshot and quit
  std::string screenshot;       // where the headless path writes its PNG
  std::string export_dir;       // headless: every lesson step as DIR/step_NN.png plus DIR/trace.json
  std::string state_file;       // test hook: JSON line per change of what is shown
  ThemeId theme = ThemeId::Light;
  bool presentation = true;
  float font_scale = 1.0f;
};

struct WindowHooks {
  std::function<void()> toggle_fullscreen;
};

class App {
 public:
  // Loads the model and the lesson (a broken lesson file or model folder shows its error in the window
  // instead, over the built-in lesson or model; the headless paths throw it). Throws UsageError /
  // DataError for a bad preset or export folder.
  App(AppOptions options, WindowHooks hooks);
  ~App();

  // Before ImGui::NewFrame: rebuilds the font atlas if the size in use changed. Returns true if it did
  // (the caller's backend must then recreate its font texture).
  bool update_fonts(float window_height, float framebuffer_scale, float content_scale);
  // A GLFW key event. Presses are queued, so a press and release within one frame still count
  // (ImGui 1.86 only sees key state at frame start).
  void on_key(int key, int action);
  // Between ImGui::NewFrame and ImGui::Render. Builds heatmap textures (GL) as needed.
  void frame();
  // After rendering: a PNG path to write the frame to (empty: none), then report_screenshot().
  std::string take_screenshot_request();
  void report_screenshot(const std::string& path, const std::string& error);
  bool should_quit() const { return quit_; }
  int exit_code() const { return exit_code_; }
  bool busy() const { return runner_.busy() || model_loader_.busy(); }
  // The headless paths ignore the pointer, so screenshots show no hover wherever the pointer is.
  bool ignores_mouse() const { return options_.steps >= 0 || !options_.export_dir.empty(); }

 private:
  void start_lesson(const Lesson& lesson);
  void load_lesson(const std::string& path_or_name, bool builtin);
  void load_model(const std::string& folder);
  void finish_model_load();
  void apply(const Action& action);
  void apply_prompt();
  void request_step();
  void finish_step();
  void back();
  void reset();
  void after_history_change();
  void handle_keys();
  void play_tick();
  void headless_tick();
  void export_tick();
  void finish_export(const std::string& error);
  void rebuild_views();
  void layout();
  void draw_menu_bar(PanelContext& c);
  void draw_bottom(PanelContext& c, bool lesson_view, float half_w);
  void write_state_file();

  AppOptions options_;
  WindowHooks hooks_;
  LoadedModel model_;
  Lesson lesson_;  // as loaded (the prompt fields in ui_ may differ: then the run is an edited copy)
  std::unique_ptr<LessonRun> run_;
  StepRunner runner_;
  ModelLoader model_loader_;
  std::vector<StepTrace> shown_;  // copies of the run's history, read by the panels
  std::vector<LessonReport> shown_reports_;
  std::vector<std::string> prompt_texts_;
  std::uint64_t trace_version_ = 1;
  UiState ui_;
  Fonts fonts_;
  std::vector<Action> actions_;
  std::vector<int> pressed_keys_;
  int queued_steps_ = 0;  // Step pressed while a step was running: run after it
  std::unique_ptr<HeatmapRenderer> heatmaps_[2];
  PaneView panes_[2];
  std::uint64_t views_version_ = 0;
  int views_layer_ = -1;
  LayoutRects rects_;
  std::string screenshot_request_;
  int frames_after_last_step_ = 0;
  std::string last_state_;
  bool quit_ = false;
  int exit_code_ = 0;
  // --export-steps: PNGs go to a temporary folder next to the target, renamed into place at the end.
  std::string export_temp_;
  int exported_ = 0;
  bool export_waiting_ = false;
};

}  // namespace kvscope::gui
