#pragma once
// App: owns the model, the lesson run (a decode session or a lesson's script), the traces shown and
// the UiState. Each frame it turns keys into actions and applies them with the panels' actions
// (between frames, never while a step runs), rebuilds the views a new step changed, then lays out the
// panels. The paths without a person (--steps, --export-steps, --state-file) are gui/drivers/headless.h.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/lessons/lesson.h"
#include "core/lessons/lesson_run.h"
#include "core/formats/model_source.h"
#include "gui/app/model_loader.h"
#include "gui/app/state_file.h"
#include "gui/panels/panels.h"
#include "gui/app/step_runner.h"
#include "gui/draw/theme.h"
#include "gui/views/trace_view.h"
#include "gui/app/ui_state.h"

namespace kvscope::gui {

struct AppOptions {
  std::string preset = "demo";
  std::string model_dir;        // Hugging Face model folder (overrides preset)
  bool model_chosen = false;    // --preset or --model given: lessons keep it instead of their own preset
  std::string lesson_path;      // a lesson file or a built-in lesson's name; empty: the default lesson
  std::string prompt;           // overrides the lesson's prompt when set
  std::string continuation;     // overrides the lesson's continuation when has_continuation
  bool has_prompt = false, has_continuation = false;
  int prompt_length = 0;        // > 0: the prompt filled to this many tokens from the built-in corpus
  int layer = -1, head = -1, window = -1;  // -1: from the lesson
  std::string kv_policy;        // replaces the lesson's cache policy when has_kv_policy
  bool has_kv_policy = false;
  std::string view;             // under the panes first: "" (the lesson's), a lesson_view_name()
  bool show_compared = false;   // --left-pane compared: the left pane shows the lesson's compared policy
  int steps = -1;               // headless: run steps 0..steps, then screenshot and quit
  int start_step = -1;          // interactive: open the first lesson at this step (runs 0..start_step)
  std::string screenshot;       // where the headless path writes its PNG
  int frame_stats = 0;          // headless: draw this many frames at the last step, print their times (JSON)
  std::string export_dir;       // headless: every lesson step as DIR/step_NN.png plus DIR/trace.json
  std::string state_file;       // test hook: JSON line per change of what is shown
  bool state_on_demand = false; // the page's window.kvscope.state() reads state_json(): measure every frame
  ThemeId theme = ThemeId::Light;
  bool presentation = true;
  float font_scale = 1.0f;
};

struct WindowHooks {
  std::function<void()> toggle_fullscreen;
  std::function<void()> pick_model_folder;  // the page's folder picker (the browser build); empty on the desktop
};

class App;

// What drives the App besides a person at the window (gui/drivers/headless.h): asked once a frame
// for the next step or screenshot, and told of each screenshot written.
class AppDriver {
 public:
  virtual ~AppDriver() = default;
  virtual void tick(App& app) = 0;
  virtual void screenshot_written(App& app, const std::string& path, const std::string& error) = 0;
};

class App {
 public:
  // Loads the model and the lesson (a broken lesson file or model folder shows its error in the window
  // instead, over the built-in lesson or model; with a driver, a run without a person, it throws).
  // Throws UsageError / DataError for a bad preset. driver: not owned, null for the interactive window.
  App(AppOptions options, WindowHooks hooks, AppDriver* driver = nullptr);
  ~App();

  // Before ImGui::NewFrame: rebuilds the font atlas if the size in use changed. Returns true if it did
  // (the caller's backend must then recreate its font texture).
  bool update_fonts(float window_height, float framebuffer_scale, float content_scale);
  // A GLFW key event. Presses are queued, so a press and release within one frame still count
  // (ImGui 1.86 only sees key state at frame start).
  void on_key(int key, int action);
  // Between ImGui::NewFrame and ImGui::Render. Builds heatmap textures (GL) as needed.
  void frame();
  // After ImGui::Render: uploads the frame's value strips, measures the frame drawn (smallest text) and
  // writes the --state-file line.
  void after_render(const ImDrawData* draw_data);
  // After rendering: a PNG path to write the frame to (empty: none), then report_screenshot().
  std::string take_screenshot_request();
  void report_screenshot(const std::string& path, const std::string& error);
  bool should_quit() const { return quit_; }
  int exit_code() const { return exit_code_; }
  bool busy() const { return runner_.busy() || model_loader_.busy(); }
  // Whether the next frames must be drawn without new input: work running, Play, queued keys or
  // actions, a screenshot to take. Otherwise an idle window need not redraw.
  bool needs_frames() const {
    return busy() || ui_.playing || screenshot_pending() || !pressed_keys_.empty() || actions_change_something() ||
           queued_steps_ > 0 || queued_backs_ > 0 || opening_ != Opening::None;
  }
  // The headless paths ignore the pointer, so screenshots show no hover wherever the pointer is.
  bool ignores_mouse() const { return driver_ != nullptr; }

  // What --state-file records, for the frame last drawn: the page's window.kvscope.state().
  std::string state_json() const { return shown_state().dump(); }
  // Loads a model folder as the Load button does (the page's folder picker; errors show in the window).
  void open_model_folder(const std::string& folder);

  // What a driver without a person (AppDriver) reads and asks for.
  bool stepping() const { return runner_.busy(); }
  const UiState& ui() const { return ui_; }
  const LessonRun* run() const { return run_.get(); }
  int steps_shown() const { return int(shown_.size()); }
  int frames_after_last_step() const { return frames_after_last_step_; }
  void request_step();  // runs the next step on the worker thread (queued if one is running)
  bool screenshot_pending() const { return !screenshot_request_.empty(); }
  void request_screenshot(const std::string& path) { screenshot_request_ = path; }
  // Ends the loop; a non-zero status is kept even if a later call passes 0.
  void quit(int exit_code) {
    quit_ = true;
    if (exit_code != 0) exit_code_ = exit_code;
  }

 private:
  void start_lesson(const Lesson& lesson);
  void load_lesson(const std::string& path_or_name, bool builtin);
  void load_model(const std::string& folder);
  void finish_model_load();
  void apply(const Action& action);
  // Whether a queued action would change what is drawn (a Hover of the position already hovered,
  // pushed every frame the pointer rests, does not).
  bool actions_change_something() const;
  void apply_prompt();
  void finish_step();
  void back();
  void finish_back();
  void reset();
  void after_history_change();
  void handle_keys();
  void play_tick();
  void rebuild_views();
  const Lesson& lesson_shown() const { return run_ ? run_->lesson() : lesson_; }
  bool compared_pane_shown() const { return ui_.show_compared && !compared_shown_.empty(); }
  PanelContext panel_context();
  void layout();
  void draw_menu_bar(PanelContext& c);
  void draw_bottom(PanelContext& c, bool lesson_view, float half_w);
  nlohmann::json shown_state() const;  // what --state-file records (app_layout.cpp)

  AppOptions options_;
  WindowHooks hooks_;
  LoadedModel model_;
  Lesson lesson_;  // as loaded (the prompt fields in ui_ may differ: then the run is an edited copy)
  std::unique_ptr<LessonRun> run_;
  StepRunner runner_;
  ModelLoader model_loader_;
  std::vector<StepTrace> shown_;  // copies of the run's history, read by the panels
  // A cache_policy lesson's first "compare" run, step for step beside shown_ (empty: none), for the left pane.
  std::vector<StepTrace> compared_shown_;
  std::vector<LessonReport> shown_reports_;
  std::vector<std::string> prompt_texts_;
  std::uint64_t trace_version_ = 1;
  UiState ui_;
  Fonts fonts_;
  std::vector<Action> actions_;
  std::vector<int> pressed_keys_;
  bool view_chosen_ = false;  // --view or the View menu chose the view under the panes: lesson steps keep it
  int queued_steps_ = 0;  // Step pressed while a step was running: run after it
  int queued_backs_ = 0;  // Back pressed while going back: go back again after it
  // A cache_policy lesson with compared policies opens where its point shows: the window runs it to its
  // end, then goes back to the key step measured on that run (LessonRun::key_step). Any step, back,
  // reset or load by the teacher stops it. Not under a driver (--steps, --export-steps step on their own).
  // --start-step N (the page's ?steps=N) opens the first lesson at step N the same way: ToStep.
  enum class Opening { None, RunToEnd, BackToKey, ToStep };
  Opening opening_ = Opening::None;
  void opening_tick();
  PerPane<std::unique_ptr<HeatmapRenderer>> heatmaps_;
  StripAtlas strips_;
  // Built from the traces when the step shown, the layer or the lesson view changes (rebuild_views).
  PerPane<PaneView> panes_;
  CaptionView caption_;
  std::uint64_t views_version_ = 0;
  int views_layer_ = -1;
  bool views_details_below_ = false;
  // The Lessons menu: the built-in lessons never change, so they are parsed once.
  struct LessonMenuItem {
    std::string file_name, title, lesson_name, source;
  };
  std::vector<LessonMenuItem> lesson_menu_;
  FrameRecord record_;  // what each frame drew where: --state-file only
  float min_text_px_ = 0.0f;  // smallest text in the last frame drawn (--state-file)
  std::string screenshot_request_;
  int frames_after_last_step_ = 0;
  bool quit_ = false;
  int exit_code_ = 0;
  AppDriver* driver_ = nullptr;  // --steps, --export-steps or --frame-stats; null in the interactive window
  std::unique_ptr<StateFile> state_file_;  // --state-file
};

}  // namespace kvscope::gui
