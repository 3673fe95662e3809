#include "gui/app.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_opengl3.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "core/error.h"
#include "core/model_folder.h"

namespace kvscope::gui {

namespace {

// Text -> ids. Models without a vocabulary (random gpt2-small) take ids: "464 3862" or "464,3862".
std::vector<int> encode_field(const Tokenizer& tokenizer, const std::string& text, const char* what) {
  if (text.find_first_not_of(" \t") == std::string::npos) return {};
  try {
    return tokenizer.encode(text);
  } catch (const UsageError&) {
    std::vector<int> ids;
    const char* p = text.c_str();
    while (*p) {
      if (*p == ' ' || *p == ',' || *p == '#') {
        ++p;
        continue;
      }
      char* end = nullptr;
      errno = 0;
      const long id = std::strtol(p, &end, 10);
      if (end == p || errno == ERANGE || id < 0 || id > 2147483647L)
        throw DataError(std::string(what) + ": this model has no vocabulary; type token ids, e.g. 464 3862");
      ids.push_back(int(id));
      p = end;
    }
    return ids;
  }
}

void copy_to(char* buffer, std::size_t size, const std::string& text) {
  const std::size_t n = std::min(size - 1, text.size());
  text.copy(buffer, n);
  buffer[n] = '\0';
}

}  // namespace

App::App(AppOptions options, WindowHooks hooks) : options_(std::move(options)), hooks_(std::move(hooks)) {
  model_ = options_.model_dir.empty() ? load_preset(options_.preset) : load_model_folder(options_.model_dir);
  ui_.theme = options_.theme;
  ui_.presentation = options_.presentation;
  ui_.font_scale = options_.font_scale;
  Lesson lesson = default_lesson();
  if (!options_.lesson_path.empty()) {
    copy_to(ui_.lesson_path, sizeof ui_.lesson_path, options_.lesson_path);
    try {
      lesson = load_lesson_file(options_.lesson_path);
    } catch (const DataError& e) {
      ui_.error = std::string(e.what()) + " (showing the built-in lesson)";
      if (options_.steps >= 0) throw;  // headless: a broken lesson is a failure
    }
  }
  start_lesson(lesson);
  if (options_.steps >= 0 && !ui_.error.empty()) throw DataError(ui_.error);
}

App::~App() { runner_.wait(); }

void App::start_lesson(const Lesson& lesson) {
  lesson_ = lesson;
  if (options_.has_prompt) {  // the lesson's notes were written for its own prompt
    lesson_.title = "none (prompt from the command line)";
    lesson_.summary.clear();
    lesson_.steps.clear();
  }
  copy_to(ui_.prompt, sizeof ui_.prompt, options_.has_prompt ? options_.prompt : lesson.prompt);
  copy_to(ui_.continuation, sizeof ui_.continuation,
          options_.has_continuation ? options_.continuation : lesson.continuation);
  ui_.layer = options_.layer >= 0 ? options_.layer : lesson.layer;
  ui_.head = options_.head >= 0 ? options_.head : lesson.head;
  ui_.window = options_.window >= 0 ? options_.window : lesson.window;
  apply_prompt();
}

void App::apply_prompt() {
  if (runner_.busy()) return;
  queued_steps_ = 0;
  const ModelConfig& config = model_.model->config();
  try {
    std::vector<int> prompt = encode_field(*model_.tokenizer, ui_.prompt, "prompt");
    std::vector<int> forced = encode_field(*model_.tokenizer, ui_.continuation, "continuation");
    SessionOptions options;
    options.window = ui_.window;
    auto session = std::make_unique<DecodeSession>(model_.model, model_.tokenizer, options);
    session->start(prompt, forced);
    session_ = std::move(session);
    prompt_texts_.clear();
    for (int id : prompt) prompt_texts_.push_back(model_.tokenizer->token_text(id));
    ui_.error.clear();
  } catch (const std::runtime_error& e) {  // DataError or UsageError: shown, the old session stays
    ui_.error = e.what();
  }
  shown_.clear();
  ui_.playing = false;
  ui_.layer = std::clamp(ui_.layer, 0, config.n_layer - 1);
  ui_.head = std::clamp(ui_.head, 0, config.n_head - 1);
  ++trace_version_;
}

void App::request_step() {
  if (!session_) return;
  if (runner_.busy()) {
    queued_steps_ = std::min(queued_steps_ + 1, 8);
    return;
  }
  std::string why;
  if (!session_->can_step(&why)) {
    ui_.status = why;
    ui_.playing = false;
    return;
  }
  runner_.start(*session_);
}

void App::finish_step() {
  if (!runner_.poll()) return;
  if (!runner_.error().empty()) {
    ui_.error = "step failed: " + runner_.error();
    ui_.playing = false;
    queued_steps_ = 0;
    return;
  }
  shown_.push_back(session_->history().back());
  ++trace_version_;
  frames_after_last_step_ = 0;
  if (queued_steps_ > 0) {
    --queued_steps_;
    request_step();
  }
}

void App::back() {
  queued_steps_ = 0;
  if (runner_.busy() || !session_) return;
  if (session_->back()) {
    shown_.pop_back();
    ++trace_version_;
  }
}

void App::reset() {
  queued_steps_ = 0;
  if (runner_.busy() || !session_) return;
  session_->reset();
  shown_.clear();
  ui_.playing = false;
  ++trace_version_;
}

void App::apply(const Action& a) {
  const ModelConfig& config = model_.model->config();
  switch (a.type) {
    case ActionType::Step: request_step(); break;
    case ActionType::Back: back(); break;
    case ActionType::Reset: reset(); break;
    case ActionType::TogglePlay:
      ui_.playing = !ui_.playing;
      ui_.last_play_step = 0.0;
      break;
    case ActionType::SetPrompt: apply_prompt(); break;
    case ActionType::SetLayer: ui_.layer = std::clamp(a.value, 0, config.n_layer - 1); break;
    case ActionType::SetHead: ui_.head = std::clamp(a.value, 0, config.n_head - 1); break;
    case ActionType::SetWindow:
      ui_.window = std::max(0, a.value);
      apply_prompt();
      break;
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
    case ActionType::LoadLesson:
      if (runner_.busy()) break;
      try {
        Lesson lesson = load_lesson_file(a.text);
        options_.has_prompt = options_.has_continuation = false;
        options_.layer = options_.head = options_.window = -1;
        start_lesson(lesson);
      } catch (const DataError& e) {
        ui_.error = e.what();
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
      case GLFW_KEY_F11: push(ActionType::ToggleFullscreen); break;
      case GLFW_KEY_F12: push(ActionType::Screenshot); break;
      case GLFW_KEY_EQUAL:
      case GLFW_KEY_KP_ADD: push(ActionType::FontBigger); break;
      case GLFW_KEY_MINUS:
      case GLFW_KEY_KP_SUBTRACT: push(ActionType::FontSmaller); break;
      default:
        if (key >= GLFW_KEY_1 && key <= GLFW_KEY_9 && key - GLFW_KEY_0 <= model_.model->config().n_layer)
          push(ActionType::SetLayer, key - GLFW_KEY_1);
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

void App::headless_tick() {
  if (options_.steps < 0 || quit_ || runner_.busy()) return;
  if (!ui_.error.empty()) {
    std::cerr << "kvscope: " << ui_.error << "\n";
    exit_code_ = 1;
    quit_ = true;
    return;
  }
  if (int(shown_.size()) < options_.steps + 1) {
    std::string why;
    if (!session_->can_step(&why)) {
      std::cerr << "kvscope: cannot run step " << shown_.size() << ": " << why << "\n";
      exit_code_ = 1;
      quit_ = true;
      return;
    }
    request_step();
  } else if (frames_after_last_step_ >= 2 && screenshot_request_.empty()) {
    screenshot_request_ = options_.screenshot;  // drawn twice: the layout has settled
  }
}

bool App::update_fonts(float window_height, float framebuffer_scale, float content_scale) {
  const float base = ui_.presentation ? std::max(12.0f, window_height / 49.0f) : 16.0f * std::max(1.0f, content_scale);
  const float px = std::round(base * ui_.font_scale);
  if (fonts_.body && std::abs(px - fonts_.body_px) < 0.5f) return false;
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  fonts_ = build_fonts(px, framebuffer_scale);
  if (!fonts_.warning.empty()) std::cerr << "kvscope: " << fonts_.warning << "\n";
  ImGui_ImplOpenGL3_CreateFontsTexture();
  apply_theme(ui_.theme, px);
  return true;
}

void App::rebuild_views() {
  if (views_version_ == trace_version_ && views_layer_ == ui_.layer) return;
  views_version_ = trace_version_;
  views_layer_ = ui_.layer;
  if (shown_.empty()) {
    panes_[0] = panes_[1] = PaneView{};
    return;
  }
  const int step = int(shown_.size()) - 1;
  panes_[0] = uncached_pane(shown_, step, ui_.layer);
  panes_[1] = cached_pane(shown_, step, ui_.layer);
}

std::string App::take_screenshot_request() {
  std::string path;
  path.swap(screenshot_request_);
  return path;
}

void App::report_screenshot(const std::string& path, const std::string& error) {
  ui_.status = error.empty() ? "screenshot written: " + path : error;
  if (options_.steps < 0) return;
  if (!error.empty()) {
    std::cerr << "kvscope: " << error << "\n";
    exit_code_ = 1;
  }
  quit_ = true;
}

void App::frame() {
  ui_.hover_position = ui_.next_hover_position;
  ui_.next_hover_position = -1;
  finish_step();
  handle_keys();
  std::vector<Action> actions;
  actions.swap(actions_);
  for (const Action& a : actions) apply(a);
  play_tick();
  headless_tick();
  rebuild_views();
  if (!heatmaps_[0]) {
    heatmaps_[0] = std::make_unique<HeatmapRenderer>();
    heatmaps_[1] = std::make_unique<HeatmapRenderer>();
  }
  layout();
  ++frames_after_last_step_;
  write_state_file();
}

}  // namespace kvscope::gui
