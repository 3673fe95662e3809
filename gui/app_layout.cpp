// App::layout: where each panel goes, as fractions of the window so 1280x720, 1600x900 and
// 1920x1080 look alike; the menu bar (Lessons, View); and App::write_state_file, the test hook.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "gui/app.h"
#include "gui/caption.h"

namespace kvscope::gui {

namespace {

// share: the most of `available` the panes take (the rest is the heatmaps or a lesson view).
float pane_height(const PaneView* const panes[2], int n_layer, float available, float share) {
  int n_rows = 1;
  for (int i = 0; i < 2; ++i)
    if (panes[i]) n_rows = std::max(n_rows, int(panes[i]->rows.size()));
  // Long sequences scroll inside the pane; the heatmaps keep at least ~45% of the height.
  const float empty = kv_pane_height(0, n_layer);
  const int max_rows = std::max(3, int((available * share - empty) / line_height()));
  return kv_pane_height(std::min(n_rows, max_rows), n_layer);
}

nlohmann::json rect_json(const ScreenRect& r) { return nlohmann::json::array({r.x0, r.y0, r.x1, r.y1}); }

}  // namespace

void App::draw_menu_bar(PanelContext& c) {
  if (!ImGui::BeginMenuBar()) return;
  c.rects.menu_items.clear();
  const bool open = ImGui::BeginMenu("Lessons", !c.busy && !c.loading_model);
  c.rects.menu_lessons = last_item_rect();
  if (open) {
    for (const BuiltinLessonText& t : builtin_lesson_texts()) {
      const Lesson l = builtin_lesson(t.name);
      const bool current = lesson_.name == l.name && lesson_.source == l.source;
      if (ImGui::MenuItem(l.title.c_str(), nullptr, current)) c.actions.push_back({ActionType::LoadBuiltinLesson, 0, t.name});
      c.rects.menu_items.push_back(last_item_rect());
    }
    ImGui::Separator();
    ImGui::TextDisabled("Other files: the Lesson field in the sidebar");
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    if (ImGui::MenuItem("Cache size calculator", "C", c.ui.show_calculator))
      c.actions.push_back({ActionType::ToggleCalculator, 0, ""});
    if (ImGui::MenuItem("Presenter text size", nullptr, c.ui.presentation))
      c.actions.push_back({ActionType::TogglePresentation, 0, ""});
    ImGui::EndMenu();
  }
  // The lesson and where it stands, on the right of the bar.
  char where[160];
  if (c.trace)
    std::snprintf(where, sizeof where, "%s \xC2\xB7 step %d (lesson: 0\xE2\x80\x93%d)", c.lesson.title.c_str(), c.trace->step,
                  c.lesson_steps - 1);
  else
    std::snprintf(where, sizeof where, "%s \xC2\xB7 %d steps", c.lesson.title.c_str(), c.lesson_steps);
  const float w = ImGui::CalcTextSize(where).x;
  const float x = ImGui::GetWindowContentRegionMax().x - w;
  if (x > ImGui::GetCursorPosX()) {
    ImGui::SameLine(x);
    ImGui::TextUnformatted(where);
  }
  ImGui::EndMenuBar();
}

// Below the panes: the heatmaps, or the lesson's own view (the same-word rows, the calculator).
void App::draw_bottom(PanelContext& c, bool lesson_view, float half_w) {
  const float bottom_h = ImGui::GetContentRegionAvail().y;
  rects_.lesson_view = ScreenRect{};
  rects_.heatmap[0] = rects_.heatmap[1] = ScreenRect{};
  if (lesson_view) {
    ImGui::BeginChild("lesson_view", ImVec2(0, bottom_h), true, ImGuiWindowFlags_NoScrollbar);
    const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
    rects_.lesson_view = {p.x, p.y, p.x + s.x, p.y + s.y};
    if (ui_.show_calculator)
      draw_calculator_panel(c, bottom_h);
    else
      draw_same_word_panel(c, bottom_h);
    ImGui::EndChild();
  } else {
    for (int pane = 0; pane < 2; ++pane) {
      if (pane) ImGui::SameLine();
      ImGui::BeginChild(pane ? "heat_cached" : "heat_uncached", ImVec2(half_w, bottom_h), true,
                        ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
      draw_attention_panel(c, pane, *heatmaps_[pane], bottom_h);
      ImGui::EndChild();
    }
  }
}

void App::layout() {
  const ImGuiIO& io = ImGui::GetIO();
  const ImGuiStyle& style = ImGui::GetStyle();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_MenuBar |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("kvscope", nullptr, flags);
  std::string why_not;
  const bool can_step = run_ && !busy() && run_->can_step(&why_not);
  const int step = int(shown_.size()) - 1;
  const PaneView* panes[2] = {step >= 0 ? &panes_[0] : nullptr, step >= 0 ? &panes_[1] : nullptr};
  PanelContext c{shown_,
                 step >= 0 ? &shown_.back() : nullptr,
                 {panes[0], panes[1]},
                 model_.model->config(),
                 model_.name,
                 prompt_texts_,
                 run_ ? run_->lesson() : lesson_,
                 step >= 0 ? &shown_reports_.back() : nullptr,
                 run_ ? run_->lesson_steps() : 0,
                 ui_,
                 palette(ui_.theme),
                 fonts_,
                 actions_,
                 runner_.busy(),
                 runner_.elapsed_seconds(),
                 runner_.step_number(),
                 can_step,
                 why_not,
                 trace_version_,
                 rects_,
                 model_loader_.busy(),
                 model_loader_.elapsed_seconds()};
  draw_menu_bar(c);

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float lh = line_height();
  const float sidebar_w = std::max(avail.x * 0.22f, 16.0f * fonts_.body_px);
  ImGui::BeginChild("sidebar", ImVec2(sidebar_w, avail.y), true);
  draw_controls_panel(c);
  draw_chart_panel(c, ImGui::GetContentRegionAvail().y);
  ImGui::EndChild();
  ImGui::SameLine();

  ImGui::BeginChild("main", ImVec2(0, avail.y), false);
  const float pad = style.WindowPadding.y * 2;
  const float main_w = ImGui::GetContentRegionAvail().x, main_h = ImGui::GetContentRegionAvail().y;
  // The caption box fits its text (up to 40% of the height; past that it scrolls).
  const float text_w = main_w - style.WindowPadding.x * 2 - style.ScrollbarSize;
  const float caption_h = std::min(main_h * 0.4f, std::max(lh * 3.2f, caption_content_height(c, text_w)) + pad);
  ImGui::BeginChild("caption", ImVec2(0, caption_h), true);
  draw_caption_panel(c);
  ImGui::EndChild();
  ImGui::BeginChild("tokens", ImVec2(0, lh * 3.1f + pad), true);
  draw_tokens_panel(c);
  ImGui::EndChild();
  draw_legend(c);
  const float rest = ImGui::GetContentRegionAvail().y;
  // The panes take up to 55% beside the heatmaps; beside a lesson view, what the view leaves.
  const bool lesson_view = ui_.show_calculator || same_word_view_available(c);
  const float view_h = lh * (ui_.show_calculator ? 11.0f : 8.0f) + pad;
  const float pane_h = lesson_view ? pane_height(panes, c.config.n_layer, rest - view_h, 1.0f)
                                   : pane_height(panes, c.config.n_layer, rest, 0.55f);
  const float half_w = (ImGui::GetContentRegionAvail().x - style.ItemSpacing.x) * 0.5f;
  for (int pane = 0; pane < 2; ++pane) {
    if (pane) ImGui::SameLine();
    ImGui::BeginChild(pane ? "pane_cached" : "pane_uncached", ImVec2(half_w, pane_h), true);
    draw_kv_rows_panel(c, pane, pane_h);
    ImGui::EndChild();
  }
  draw_bottom(c, lesson_view, half_w);
  ImGui::EndChild();
  ImGui::End();
}

void App::write_state_file() {
  if (options_.state_file.empty()) return;
  nlohmann::json j;
  j["steps_shown"] = int(shown_.size());
  j["busy"] = busy();
  j["loading_model"] = model_loader_.busy();
  j["layer"] = ui_.layer;
  j["head"] = ui_.head;
  j["theme"] = theme_name(ui_.theme);
  j["font_px"] = fonts_.body_px;
  j["error"] = ui_.error;
  j["input_error"] = ui_.input_error;
  j["status"] = ui_.status;
  j["model"] = model_.name;
  j["n_layer"] = model_.model->config().n_layer;
  j["context_length"] = model_.model->config().context_length;
  j["window_size"] = {ImGui::GetIO().DisplaySize.x, ImGui::GetIO().DisplaySize.y};
  const Lesson& lesson = run_ ? run_->lesson() : lesson_;
  j["lesson"] = {{"name", lesson.name}, {"title", lesson.title}, {"kind", lesson_kind_name(lesson.kind)},
                 {"steps", run_ ? run_->lesson_steps() : 0}};
  j["calculator"] = ui_.show_calculator;
  if (!shown_.empty()) {
    const StepTrace& t = shown_.back();
    j["step"] = t.step;
    j["position"] = t.newest_position();
    j["tokens"] = t.context_texts;
    j["caption"] = make_caption(t).title;
    j["lines"] = shown_reports_.back().lines;
  } else {
    j["step"] = -1;
  }
  j["pane_uncached"] = rect_json(rects_.pane[0]);
  j["pane_cached"] = rect_json(rects_.pane[1]);
  j["heatmap_uncached"] = rect_json(rects_.heatmap[0]);
  j["heatmap_cached"] = rect_json(rects_.heatmap[1]);
  j["caption_box"] = rect_json(rects_.caption);
  j["caption_overflow"] = rects_.caption_overflow;
  j["lesson_view"] = rect_json(rects_.lesson_view);
  j["menu_lessons"] = rect_json(rects_.menu_lessons);
  j["prompt_field"] = rect_json(rects_.prompt_field);
  j["continuation_field"] = rect_json(rects_.continuation_field);
  j["model_field"] = rect_json(rects_.model_field);
  nlohmann::json items = nlohmann::json::array();
  for (const ScreenRect& r : rects_.menu_items) items.push_back(rect_json(r));
  j["menu_items"] = items;
  j["heatmap_uploads"] = heatmaps_[0] ? heatmaps_[0]->uploads() + heatmaps_[1]->uploads() : 0;
  const std::string line = j.dump();
  if (line == last_state_) return;
  last_state_ = line;
  std::ofstream out(options_.state_file, std::ios::app);
  out << line << "\n";
}

}  // namespace kvscope::gui
