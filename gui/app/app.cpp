#include "gui/app/app.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_opengl3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>

#include "core/lessons/cache_calculator.h"
#include "core/engine/kernels/error.h"
#include "core/formats/model_folder.h"
#include "gui/draw/gl_util.h"
#include "gui/draw/text_metrics.h"

namespace kvscope::gui {

namespace {

void copy_to(char* buffer, std::size_t size, const std::string& text) {
  const std::size_t n = std::min(size - 1, text.size());
  text.copy(buffer, n);
  buffer[n] = '\0';
}

}  // namespace

App::App(AppOptions options, WindowHooks hooks, AppDriver* driver)
    : options_(std::move(options)), hooks_(std::move(hooks)), driver_(driver) {
  for (const EmbeddedFile& f : embedded_builtin_lessons()) {
    const Lesson l = builtin_lesson(f.name);
    lesson_menu_.push_back({f.name, l.title, l.name, l.source});
  }
  ui_.theme = options_.theme;
  ui_.presentation = options_.presentation;
  ui_.font_scale = options_.font_scale;
  const bool headless = driver_ != nullptr;
  std::string model_error;
  if (options_.model_dir.empty()) {
    model_ = load_preset(options_.preset);  // an unknown preset is a usage error: exit 2
  } else {
    copy_to(ui_.model_path, sizeof ui_.model_path, options_.model_dir);
    try {
      model_ = load_model_folder(options_.model_dir);
    } catch (const std::runtime_error& e) {  // DataError or UsageError
      if (headless) throw;  // headless: a broken folder is a failure
      model_error = std::string(e.what()) + " (showing the built-in model)";
      model_ = load_preset("demo");
    }
  }
  Lesson lesson = default_lesson();
  std::string lesson_error;
  if (!options_.lesson_path.empty()) {
    copy_to(ui_.lesson_path, sizeof ui_.lesson_path, options_.lesson_path);
    try {
      lesson = kvscope::load_lesson(options_.lesson_path);
    } catch (const DataError& e) {
      if (headless) throw;  // headless: a broken lesson is a failure
      lesson_error = std::string(e.what()) + " (showing the built-in lesson)";
    }
  }
  start_lesson(lesson);
  // Shown in the window, after the default started.
  if (!lesson_error.empty()) ui_.error = lesson_error;
  if (!model_error.empty()) ui_.error = model_error;
  if (headless && !ui_.input_error.empty()) throw DataError(ui_.input_error);
  if (!options_.state_file.empty()) state_file_ = std::make_unique<StateFile>(options_.state_file);
  if (state_file_ || options_.state_on_demand) record_.enable();
}

void App::open_model_folder(const std::string& folder) {
  copy_to(ui_.model_path, sizeof ui_.model_path, folder);
  actions_.push_back(Action{ActionType::LoadModel, 0, folder});
}

App::~App() { runner_.wait(); }  // before the members go: the worker reads the run

void App::start_lesson(const Lesson& lesson) {
  lesson_ = lesson;
  // A lesson runs on its own built-in model unless the teacher chose one (--preset, --model, Models menu).
  if (!options_.model_chosen && ui_.model_path[0] == '\0' && !lesson.preset.empty() && lesson.preset != model_.name) {
    model_ = load_preset(lesson.preset);
    run_.reset();
    prompt_texts_.clear();
  }
  if (options_.prompt_length > 0) lesson_.prompt_length = options_.prompt_length;
  if (options_.has_prompt || options_.prompt_length > 0) {  // the lesson's notes were written for its own prompt
    lesson_.title = options_.has_prompt ? "none (prompt from the command line)"
                                        : "none (prompt filled to " + std::to_string(options_.prompt_length) + " tokens)";
    lesson_.summary.clear();
    lesson_.steps.clear();
    lesson_.key_step = -1;
  }
  copy_to(ui_.prompt, sizeof ui_.prompt, options_.has_prompt ? options_.prompt : lesson.prompt);
  copy_to(ui_.continuation, sizeof ui_.continuation,
          options_.has_continuation ? options_.continuation : lesson.continuation);
  ui_.layer = options_.layer >= 0 ? options_.layer : lesson.layer;
  ui_.head = options_.head >= 0 ? options_.head : lesson.head;
  ui_.window = options_.window >= 0 ? options_.window : lesson.window;
  copy_to(ui_.policy, sizeof ui_.policy, options_.has_kv_policy ? options_.kv_policy : lesson.policy);
  ui_.below = lesson.kind == LessonKind::CacheSize ? LessonView::Calculator : LessonView::Heatmaps;
  view_chosen_ = parse_lesson_view(options_.view, &ui_.below);  // options checked the name
  ui_.show_compared = options_.show_compared;
  apply_prompt();
  opening_ = !driver_ && lesson_.kind == LessonKind::CachePolicy && !lesson_.compare.empty() && !options_.has_prompt
                 ? Opening::RunToEnd
                 : Opening::None;
  if (!driver_ && options_.start_step >= 0) opening_ = Opening::ToStep;
}

void App::opening_tick() {
  if (opening_ == Opening::None || !run_ || runner_.busy() || model_loader_.busy()) return;
  if (!ui_.error.empty()) {
    opening_ = Opening::None;
    return;
  }
  if (opening_ == Opening::ToStep) {
    if (steps_shown() <= options_.start_step && run_->can_step()) return request_step();
    opening_ = Opening::None;
    return;
  }
  if (opening_ == Opening::RunToEnd) {
    if (steps_shown() < run_->lesson_steps() && run_->can_step()) return request_step();
    opening_ = Opening::BackToKey;
  }
  if (steps_shown() > run_->key_step() + 1) return back();
  opening_ = Opening::None;
}

void App::load_lesson(const std::string& path_or_name, bool builtin) {
  if (busy()) return;
  try {
    Lesson lesson = builtin ? builtin_lesson(path_or_name) : kvscope::load_lesson(path_or_name);
    options_.has_prompt = options_.has_continuation = false;
    options_.prompt_length = 0;
    options_.layer = options_.head = options_.window = options_.start_step = -1;
    if (!builtin) copy_to(ui_.lesson_path, sizeof ui_.lesson_path, path_or_name);
    ui_.error.clear();
    start_lesson(lesson);
  } catch (const std::runtime_error& e) {  // shown in the window; the lesson on screen stays
    ui_.error = e.what();
  }
}

// A GPT-2 folder, or the built-in model for an empty path, loaded in the background; steps wait.
void App::load_model(const std::string& folder) {
  if (busy()) return;
  ui_.playing = false;
  queued_steps_ = 0;
  model_loader_.start(folder);
}

// A folder that did not load leaves the model and the run on screen as they were; one that loaded
// restarts the lesson's run on it.
void App::finish_model_load() {
  if (!model_loader_.poll()) return;
  if (!model_loader_.error().empty()) {
    ui_.error = model_loader_.error() + " (keeping " + model_.name + ")";
    return;
  }
  model_ = model_loader_.take_model();
  run_.reset();  // the old run holds the old model; a prompt this model cannot read leaves no run
  prompt_texts_.clear();
  ui_.error.clear();
  ui_.status = "model loaded: " + model_.name;
  apply_prompt();
}

// A run of the lesson with the prompt, continuation and window of the controls. When they differ from
// the lesson's own, the run is an edited copy: the same kind of checks, but no notes (they were
// written for the lesson's text) and no check that its steps fit.
void App::apply_prompt() {
  if (busy()) return;
  queued_steps_ = 0;
  const ModelConfig& config = model_.model->config();
  // ImGui stops a field at its buffer size; a prompt cut there would run silently shortened.
  if (std::strlen(ui_.prompt) + 1 >= sizeof ui_.prompt || std::strlen(ui_.continuation) + 1 >= sizeof ui_.continuation) {
    ui_.input_error = "the prompt or continuation fills its field (" + std::to_string(sizeof ui_.prompt - 1) +
                      " characters) and may be cut off: shorten it";
    return;
  }
  Lesson lesson = lesson_;
  const bool edited = lesson.prompt != ui_.prompt || lesson.continuation != ui_.continuation ||
                      lesson.window != ui_.window || lesson.policy != ui_.policy;
  if (edited) {
    lesson.prompt = ui_.prompt;
    lesson.continuation = ui_.continuation;
    lesson.window = lesson.kind == LessonKind::PrefixReuse ? 0 : ui_.window;
    lesson.policy = ui_.policy;
    lesson.steps.clear();
    lesson.key_step = -1;
    lesson.source.clear();
  }
  try {
    auto run = std::make_unique<LessonRun>(lesson, model_, !edited);
    prompt_texts_.clear();
    for (int id : run->prompt_ids()) prompt_texts_.push_back(model_.tokenizer->token_text(id));
    run_ = std::move(run);
    ui_.input_error.clear();
  } catch (const std::runtime_error& e) {  // DataError or UsageError: shown under the field
    ui_.input_error = e.what();
    if (run_) return;  // refused: the run and the step on screen stay as they were
  }
  if (run_) run_->reset();
  shown_.clear();
  shown_reports_.clear();
  ui_.playing = false;
  ui_.layer = std::clamp(ui_.layer, 0, config.n_layer - 1);
  ui_.head = std::clamp(ui_.head, 0, config.n_head - 1);
  after_history_change();
}

void App::request_step() {
  if (!run_ || model_loader_.busy()) return;
  if (runner_.busy()) {
    if (!runner_.going_back()) queued_steps_ = std::min(queued_steps_ + 1, 8);
    return;
  }
  std::string why;
  if (!run_->can_step(&why)) {
    ui_.status = why;
    ui_.playing = false;
    return;
  }
  runner_.start(*run_);
}

void App::finish_step() {
  if (!runner_.poll()) return;
  if (!runner_.error().empty()) {
    ui_.error = (runner_.going_back() ? "going back failed: " : "step failed: ") + runner_.error();
    ui_.playing = false;
    queued_steps_ = 0;
    return;
  }
  if (runner_.going_back()) return finish_back();
  shown_.push_back(run_->history().back());
  shown_reports_.push_back(run_->reports().back());
  // Only the step on screen needs its large tensors: the one before drops them (back() copies them
  // again from the session, which keeps or recomputes them).
  if (shown_.size() >= 2) drop_large_tensors(shown_[shown_.size() - 2]);
  after_history_change();
  frames_after_last_step_ = 0;
  if (queued_steps_ > 0) {
    --queued_steps_;
    request_step();
  }
}

void App::back() {
  queued_steps_ = 0;
  if (!run_) return;
  if (runner_.busy()) {  // a second ← while going back goes back once more; during a step, nothing
    if (runner_.going_back()) queued_backs_ = std::min(queued_backs_ + 1, 8);
    return;
  }
  if (shown_.empty()) return;
  runner_.start_back(*run_);  // on the worker: the step now shown may need its tensors recomputed
}

void App::finish_back() {
  if (!runner_.went_back()) {
    queued_backs_ = 0;
    return;
  }
  shown_.pop_back();
  shown_reports_.pop_back();
  // The session recomputed the step now shown if it had dropped its tensors: copy them back.
  if (!shown_.empty() && shown_.back().tensors_dropped) shown_.back() = run_->history().back();
  after_history_change();
  if (queued_backs_ > 0) {
    --queued_backs_;
    back();
  }
}

void App::reset() {
  queued_steps_ = queued_backs_ = 0;
  if (runner_.busy() || !run_) return;
  run_->reset();
  shown_.clear();
  shown_reports_.clear();
  ui_.playing = false;
  after_history_change();
}

// A step shown, taken back or reset: views rebuild, and a cache_size lesson's step sets the calculator.
void App::after_history_change() {
  ++trace_version_;
  // The first compared run, copied step for step like shown_ (the worker is idle here): older steps
  // keep their cached rows, only the newest its attention and queries.
  const std::vector<const std::vector<StepTrace>*> compared = run_ ? run_->compared_histories() : decltype(compared){};
  if (compared.empty() || compared[0]->size() != shown_.size()) {
    compared_shown_.clear();
  } else {
    const std::vector<StepTrace>& h = *compared[0];
    compared_shown_.resize(std::min(compared_shown_.size(), h.size()));
    while (compared_shown_.size() < h.size()) compared_shown_.push_back(h[compared_shown_.size()]);
    if (!h.empty()) compared_shown_.back() = h.back();  // the session keeps the newest step's tensors
    if (compared_shown_.size() >= 2) drop_large_tensors(compared_shown_[compared_shown_.size() - 2]);
  }
  ui_.focus_row_end = ui_.focus_col_end = -1;  // the heatmaps' focus follows the newest step again
  const int step = int(shown_.size()) - 1;
  if (!run_ || step < 0 || step >= int(run_->lesson().steps.size())) return;
  const LessonStep& lesson_step = run_->lesson().steps[std::size_t(step)];
  if (!view_chosen_ && lesson_step.sets_view) ui_.below = lesson_step.view;  // unless --view or the View menu chose
  const CalculatorSetting& s = lesson_step.calculator;
  if (!s.set) return;
  ui_.calc_shape = s.shape;
  ui_.calc_tokens = int(std::min<std::int64_t>(s.tokens, 1 << 30));
  KvDtype dtype = KvDtype::FP32;
  parse_kv_dtype(s.dtype, &dtype);
  for (int i = 0; i < int(kv_dtypes().size()); ++i)
    if (kv_dtypes()[std::size_t(i)].id == dtype) ui_.calc_dtype = i;
}

void App::apply(const Action& a) {
  const ModelConfig& config = model_.model->config();
  switch (a.type) {  // the teacher took over the stepping (a lesson load below starts its own opening)
    case ActionType::Step: case ActionType::Back: case ActionType::Reset: case ActionType::TogglePlay:
    case ActionType::SetPrompt: case ActionType::LoadLesson: case ActionType::LoadBuiltinLesson:
    case ActionType::LoadModel: case ActionType::LoadPreset: opening_ = Opening::None; break;
    default: break;
  }
  switch (a.type) {
    case ActionType::Step: request_step(); break;
    case ActionType::Back: back(); break;
    case ActionType::Reset: reset(); break;
    case ActionType::TogglePlay:
      ui_.playing = !ui_.playing;
      ui_.last_play_step = 0.0;
      break;
    case ActionType::SetPlaySpeed: ui_.steps_per_second = std::clamp(a.amount, 0.2f, 5.0f); break;
    case ActionType::SetPrompt: apply_prompt(); break;
    case ActionType::SetLayer: ui_.layer = std::clamp(a.value, 0, config.n_layer - 1); break;
    case ActionType::SetHead: ui_.head = std::clamp(a.value, 0, config.n_head - 1); break;
    case ActionType::SetWindow: ui_.window = std::max(0, a.value); break;  // used by the next SetPrompt (Restart)
    case ActionType::SetTheme:
      ui_.theme = ThemeId(a.value);
      apply_theme(ui_.theme, fonts_.body_px);
      break;
    case ActionType::FontBigger: ui_.font_scale = std::min(3.0f, ui_.font_scale * 1.1f); break;
    case ActionType::FontSmaller: ui_.font_scale = std::max(0.5f, ui_.font_scale / 1.1f); break;
    case ActionType::TogglePresentation: ui_.presentation = !ui_.presentation; break;
    case ActionType::ToggleFullscreen:
      if (hooks_.toggle_fullscreen) hooks_.toggle_fullscreen();
      break;
    case ActionType::Screenshot: screenshot_request_ = "kvscope-step" + std::to_string(shown_.size()) + ".png"; break;
    case ActionType::LoadLesson: load_lesson(a.text, false); break;
    case ActionType::LoadBuiltinLesson: load_lesson(a.text, true); break;
    case ActionType::ToggleView:  // one view under the panes at a time: its key again shows the heatmaps
      ui_.below = ui_.below == LessonView(a.value) ? LessonView::Heatmaps : LessonView(a.value);
      view_chosen_ = true;
      break;
    case ActionType::ToggleComparedPane:
      ui_.show_compared = !ui_.show_compared;
      ++trace_version_;  // the left pane's rows and heatmap change source
      break;
    case ActionType::SetCalculatorShape: ui_.calc_shape = a.text; break;
    case ActionType::SetCalculatorDtype: ui_.calc_dtype = std::clamp(a.value, 0, int(kv_dtypes().size()) - 1); break;
    case ActionType::SetCalculatorTokens: ui_.calc_tokens = std::max(0, a.value); break;
    case ActionType::LoadModel: load_model(a.text); break;
    case ActionType::Hover: ui_.hover_position = a.value; break;
    case ActionType::SetFocus:
      ui_.focus_row_end = a.value;
      ui_.focus_col_end = a.value2;
      break;
    case ActionType::SetStripRange:
      ui_.strip_begin = std::max(0, a.value);
      ui_.strip_keys = std::max(0, a.value2);
      break;
    case ActionType::SetPooledMean: ui_.pooled_mean = a.value != 0; break;
    case ActionType::RowsScrolled: ui_.rows_scrolled[PaneKind(std::clamp(a.value, 0, 1))] = std::uint64_t(a.value2); break;
    case ActionType::LoadPreset:
      if (!busy()) {
        options_.model_chosen = true;  // the teacher's pick stays when lessons change
        ui_.model_path[0] = '\0';
        ui_.playing = false;
        queued_steps_ = 0;
        model_loader_.start_preset(a.text);
      }
      break;
  }
}

void App::on_key(int key, int action) {
  const bool repeatable = key == GLFW_KEY_RIGHT || key == GLFW_KEY_LEFT;
  if (action == GLFW_PRESS || (action == GLFW_REPEAT && repeatable)) pressed_keys_.push_back(key);
}

void App::handle_keys() {
  std::vector<int> keys;
  keys.swap(pressed_keys_);
  if (ImGui::GetIO().WantTextInput) return;  // typing in a field: keys are text
  auto push = [this](ActionType type, int value = 0) { actions_.push_back({type, value, ""}); };
  for (int key : keys) {
    switch (key) {
      case GLFW_KEY_SPACE:
      case GLFW_KEY_RIGHT: push(ActionType::Step); break;
      case GLFW_KEY_LEFT:
      case GLFW_KEY_BACKSPACE: push(ActionType::Back); break;
      case GLFW_KEY_R: push(ActionType::Reset); break;
      case GLFW_KEY_P: push(ActionType::TogglePlay); break;
      case GLFW_KEY_L: push(ActionType::ToggleComparedPane); break;
      case GLFW_KEY_F11: push(ActionType::ToggleFullscreen); break;
      case GLFW_KEY_F12: push(ActionType::Screenshot); break;
      case GLFW_KEY_EQUAL:
      case GLFW_KEY_KP_ADD: push(ActionType::FontBigger); break;
      case GLFW_KEY_MINUS:
      case GLFW_KEY_KP_SUBTRACT: push(ActionType::FontSmaller); break;
      default:
        if (key >= GLFW_KEY_1 && key <= GLFW_KEY_9 && key - GLFW_KEY_0 <= model_.model->config().n_layer)
          push(ActionType::SetLayer, key - GLFW_KEY_1);
        for (const LessonViewInfo& v : lesson_view_table())  // the views' own letters (lesson_views.cpp)
          if (key == GLFW_KEY_A + (v.key[0] - 'A')) push(ActionType::ToggleView, int(v.view));
    }
  }
}

void App::play_tick() {
  if (!ui_.playing || runner_.busy()) return;
  const double now = ImGui::GetTime();
  if (now - ui_.last_play_step < 1.0 / std::max(0.1f, ui_.steps_per_second)) return;
  ui_.last_play_step = now;
  request_step();
}

bool App::update_fonts(float window_height, float framebuffer_scale, float content_scale) {
  const float base = ui_.presentation ? std::max(12.0f, window_height / 49.0f) : 16.0f * std::max(1.0f, content_scale);
  const float px = std::round(base * ui_.font_scale);
  if (fonts_.body && std::abs(px - fonts_.body_px) < 0.5f) return false;
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  fonts_ = build_fonts(px, framebuffer_scale);
  if (!fonts_.warning.empty()) std::cerr << "kvscope: " << fonts_.warning << "\n";
  ImGui_ImplOpenGL3_CreateFontsTexture();
  set_nearest_sampling(GLuint(reinterpret_cast<std::intptr_t>(ImGui::GetIO().Fonts->TexID)));
  glBindTexture(GL_TEXTURE_2D, 0);
  apply_theme(ui_.theme, px);
  return true;
}

void App::rebuild_views() {
  const LessonReport* report = shown_reports_.empty() ? nullptr : &shown_reports_.back();
  // A lesson view under the panes (calculator, same-word rows, block pool, speculation) draws the report's
  // details itself.
  const bool details_below = ui_.below == LessonView::Calculator || same_word_view_available(lesson_shown(), report) ||
                             (run_ && run_->batch()) || (ui_.below == LessonView::Speculation && run_ && run_->speculative()) ||
                             (ui_.below == LessonView::MemoryWall && run_ && run_->memory_wall());
  if (views_version_ == trace_version_ && views_layer_ == ui_.layer && views_details_below_ == details_below) return;
  views_version_ = trace_version_;
  views_layer_ = ui_.layer;
  views_details_below_ = details_below;
  if (shown_.empty()) {
    panes_[PaneKind::Uncached] = panes_[PaneKind::Cached] = PaneView{};
    caption_ = CaptionView{};
    return;
  }
  const int step = int(shown_.size()) - 1;
  panes_[PaneKind::Uncached] = compared_pane_shown() ? cached_pane(compared_shown_, step, ui_.layer) : uncached_pane(shown_, step, ui_.layer);
  panes_[PaneKind::Cached] = cached_pane(shown_, step, ui_.layer);
  caption_ = make_caption_view(shown_.back(), report, lesson_shown(), details_below);
}

std::string App::take_screenshot_request() {
  std::string path;
  path.swap(screenshot_request_);
  return path;
}

void App::report_screenshot(const std::string& path, const std::string& error) {
  if (driver_)
    driver_->screenshot_written(*this, path, error);
  else
    ui_.status = error.empty() ? "screenshot written: " + path : error;  // not on slides
}

bool App::actions_change_something() const {
  return std::any_of(actions_.begin(), actions_.end(),
                     [this](const Action& a) { return a.type != ActionType::Hover || a.value != ui_.hover_position; });
}

void App::frame() {
  ui_.hover_position = -1;  // last frame's Hover action, if any, sets it again below
  finish_step();
  finish_model_load();
  handle_keys();
  std::vector<Action> actions;
  actions.swap(actions_);
  for (const Action& a : actions) apply(a);
  play_tick();
  opening_tick();
  if (driver_) driver_->tick(*this);
  rebuild_views();
  for (PaneKind pane : kPaneKinds)
    if (!heatmaps_[pane]) heatmaps_[pane] = std::make_unique<HeatmapRenderer>();
  strips_.begin_frame();
  layout();
  ++frames_after_last_step_;
}

void App::after_render(const ImDrawData* draw_data) {
  strips_.upload();  // before the draw data that samples it is rendered
  if (!state_file_ && !options_.state_on_demand) return;  // measured only for the test hooks
  min_text_px_ = smallest_text_px(draw_data);
  if (state_file_) state_file_->write(shown_state());
}

}  // namespace kvscope::gui
