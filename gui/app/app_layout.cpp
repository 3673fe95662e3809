// App::layout: where each panel goes, as fractions of the window so 1280x720, 1600x900 and
// 1920x1080 look alike; the menu bar (Lessons, View); and App::shown_state, what the --state-file test
// hook records (the rects drawn here among it).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "gui/app/app.h"
#include "gui/views/caption.h"

namespace kvscope::gui {

namespace {

// share: the most of `available` the panes take (the rest is the heatmaps or a lesson view).
float pane_height(const PanelContext& c, float available, float share, int min_rows = 8) {
  int n_rows = 1;
  for (PaneKind pane : kPaneKinds)
    if (c.panes[pane]) n_rows = std::max(n_rows, int(c.panes[pane]->rows.size()));
  // Long sequences scroll inside the pane: at least min_rows show (legible at real lengths), more when
  // the share allows; the heatmaps take the rest.
  // The minimum is a height (min_rows plain rows): header lines above the rows come out of it, so a
  // GQA or policy pane does not push the heatmaps or the lesson view off the window.
  const int min_shown = std::max(1, min_rows - int(std::ceil(kv_header_extra_lines(c))));
  const float empty = kv_pane_height(c, 0);
  const int max_rows = std::max(min_shown, int((available * share - empty) / line_height()));
  return kv_pane_height(c, std::min(n_rows, max_rows));
}


}  // namespace

void App::draw_menu_bar(PanelContext& c) {
  if (!ImGui::BeginMenuBar()) return;
  const drawn::PanelScope scope(c.record, "menu");
  const bool open = ImGui::BeginMenu("Lessons", !c.busy && !c.loading_model);
  c.record->rect("menu_lessons", last_item_rect());
  if (open) {
    for (const LessonMenuItem& item : lesson_menu_) {
      const bool current = lesson_.name == item.lesson_name && lesson_.source == item.source;
      if (ImGui::MenuItem(item.title.c_str(), nullptr, current))
        push_action(c, ActionType::LoadBuiltinLesson, 0, item.file_name);
      c.record->add_rect("menu_items", last_item_rect());
    }
    ImGui::Separator();
    drawn::TextDisabled("Other files: the Lesson field in the sidebar");
    ImGui::EndMenu();
  }
  const bool models_open = ImGui::BeginMenu("Models", !c.busy && !c.loading_model);
  c.record->rect("menu_models", last_item_rect());
  if (models_open) {
    // The built-in models (the preset registry), each with one line saying what it is.
    // The large presets (real shapes, seconds to minutes to make) open with --preset only: one stray
    // click in the menu would otherwise start a load of gigabytes.
    for (const PresetInfo& m : builtin_presets()) {
      if (m.large) continue;
      if (ImGui::MenuItem(m.name.c_str(), nullptr, c.model_name == m.name)) push_action(c, ActionType::LoadPreset, 0, m.name);
      c.record->add_rect("menu_items", last_item_rect());
      drawn::TextDisabled("  %s", drawn::figure("model_description", 0, m.description).c_str());  // authored
    }
    ImGui::Separator();
    if (hooks_.pick_model_folder) {  // the browser: files come from the page's folder picker (or a drop)
      if (ImGui::MenuItem("Open a Hugging Face folder...")) hooks_.pick_model_folder();
      c.record->add_rect("menu_items", last_item_rect());
      c.record->rect("menu_open_folder", last_item_rect());
      drawn::TextDisabled("  or drop its files on the page");
    } else {
      drawn::TextDisabled("A Hugging Face folder: the Model field in the sidebar");
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    for (const LessonViewInfo& v : lesson_view_table())
      if (ImGui::MenuItem(v.menu, v.key, c.ui->below == v.view, lesson_view_available(c, v.view)))
        push_action(c, ActionType::ToggleView, int(v.view));
    const std::vector<std::string>& compare = c.lesson->compare;
    const std::string left = compare.empty() ? std::string("Left pane: a compared policy") : "Left pane: " + compare[0] + " instead of no cache";
    if (ImGui::MenuItem(left.c_str(), "L", c.ui->show_compared, !compare.empty()))
      push_action(c, ActionType::ToggleComparedPane);
    if (ImGui::MenuItem("Presenter text size", nullptr, c.ui->presentation))
      push_action(c, ActionType::TogglePresentation);
    ImGui::EndMenu();
  }
  // The lesson and where it stands, on the right of the bar.
  char where[160];
  if (c.trace)
    std::snprintf(where, sizeof where, "%s \xC2\xB7 %s (lesson: %s)", drawn::figure("lesson_text", 0, c.lesson->title).c_str(),
                  drawn::figure("step", c.trace->step, "step " + std::to_string(c.trace->step)).c_str(),
                  drawn::figure("lesson_steps", c.lesson_steps, position_range(0, c.lesson_steps - 1)).c_str());
  else
    std::snprintf(where, sizeof where, "%s \xC2\xB7 %s", drawn::figure("lesson_text", 0, c.lesson->title).c_str(),
                  drawn::figure("lesson_steps", c.lesson_steps, std::to_string(c.lesson_steps) + " steps").c_str());
  const float w = ImGui::CalcTextSize(where).x;
  const float x = ImGui::GetWindowContentRegionMax().x - w;
  if (x > ImGui::GetCursorPosX()) {
    ImGui::SameLine(x);
    drawn::TextUnformatted(where);
  }
  ImGui::EndMenuBar();
}

// Below the panes: the heatmaps, or the lesson's own view (the same-word rows, the calculator).
void App::draw_bottom(PanelContext& c, bool lesson_view, float half_w) {
  const float bottom_h = ImGui::GetContentRegionAvail().y;
  if (lesson_view) {
    // The calculator and the block pool may be taller than their share on a short screen: they scroll.
    const bool calculator = ui_.below == LessonView::Calculator;
    const bool scrolls = calculator || block_pool_view_available(c);
    ImGui::BeginChild("lesson_view", ImVec2(0, bottom_h), true, scrolls ? 0 : ImGuiWindowFlags_NoScrollbar);
    const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
    c.record->rect("lesson_view", {p.x, p.y, p.x + s.x, p.y + s.y});
    if (calculator)
      draw_calculator_panel(c, bottom_h);
    else if (block_pool_view_available(c))
      draw_block_pool_panel(c, bottom_h);
    else if (ui_.below != LessonView::Heatmaps && lesson_view_available(c, ui_.below))
      draw_lesson_view(c, ui_.below, bottom_h);
    else
      draw_same_word_panel(c, bottom_h);
    ImGui::EndChild();
  } else {
    for (PaneKind pane : kPaneKinds) {
      const bool cached = pane == PaneKind::Cached;
      if (cached) ImGui::SameLine();
      ImGui::BeginChild(cached ? "heat_cached" : "heat_uncached", ImVec2(half_w, bottom_h), true,
                        ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
      draw_attention_panel(c, pane, *heatmaps_[pane], bottom_h);
      ImGui::EndChild();
    }
  }
}

// Every field by name: what the panels read this frame and where they write.
PanelContext App::panel_context() {
  const int step = int(shown_.size()) - 1;
  PanelContext c;
  c.history = &shown_;
  c.trace = step >= 0 ? &shown_.back() : nullptr;
  for (PaneKind pane : kPaneKinds) c.panes[pane] = step >= 0 ? &panes_[pane] : nullptr;
  c.caption = step >= 0 ? &caption_ : nullptr;
  c.config = &model_.model->config();
  c.model_name = model_.name;
  c.prompt_texts = &prompt_texts_;
  c.lesson = &lesson_shown();
  c.report = step >= 0 ? &shown_reports_.back() : nullptr;
  c.lesson_steps = run_ ? run_->lesson_steps() : 0;
  c.compared_history = &compared_shown_;
  if (step >= 0) {
    const bool compared = compared_pane_shown();
    c.sources[PaneKind::Uncached] = {compared ? &compared_shown_.back() : &shown_.back(), compared,
                                     compared ? compared_shown_.back().cached.policy.spec : ""};
    // Beside a compared policy, the right pane is titled by its own policy too.
    const PolicyTrace& own = shown_.back().cached.policy;
    c.sources[PaneKind::Cached] = {&shown_.back(), true, compared && own.active ? own.spec : ""};
  } else {  // before step 0 each pane still says which mode it is
    c.sources[PaneKind::Uncached] = {nullptr, false, ""};
    c.sources[PaneKind::Cached] = {nullptr, true, ""};
  }
  c.batch = run_ ? run_->batch() : nullptr;
  c.speculative = run_ ? run_->speculative() : nullptr;
  c.tokenizer = model_.tokenizer.get();
  c.trace_version = trace_version_;
  c.pal = &palette(ui_.theme);
  c.fonts = &fonts_;
  c.busy = runner_.busy();
  c.busy_seconds = runner_.elapsed_seconds();
  c.busy_step = runner_.step_number();
  c.can_step = run_ && !busy() && run_->can_step(&c.why_not);
  c.loading_model = model_loader_.busy();
  c.loading_seconds = model_loader_.elapsed_seconds();
  c.ui = &ui_;
  c.view = &ui_;
  c.fields = &ui_;
  c.actions = &actions_;
  c.record = &record_;
  c.strips = &strips_;
  return c;
}

void App::layout() {
  const ImGuiIO& io = ImGui::GetIO();
  const ImGuiStyle& style = ImGui::GetStyle();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_MenuBar |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoBackground;  // painted by the frame's clear
  ImGui::Begin("kvscope", nullptr, flags);
  PanelContext c = panel_context();
  record_.begin_frame();  // whatever draws a declared thing this frame declares it again
  draw_menu_bar(c);

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float lh = line_height();
  const float sidebar_w = std::max(avail.x * 0.22f, 16.0f * fonts_.body_px);
  ImGui::BeginChild("sidebar", ImVec2(sidebar_w, avail.y), true);
  draw_controls_panel(c);
  draw_chart_panel(c, ImGui::GetContentRegionAvail().y);
  ImGui::EndChild();
  ImGui::SameLine();

  // Only a frame around its panels, each with its own background: not painted twice.
  ImGui::BeginChild("main", ImVec2(0, avail.y), false, ImGuiWindowFlags_NoBackground);
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
  const bool pool = block_pool_view_available(c);
  const LessonViewInfo* chosen = lesson_view_available(c, ui_.below) ? lesson_view_info(ui_.below) : nullptr;
  const bool lesson_view = chosen || pool || same_word_view_available(c);
  const float view_h = lh * (pool ? 14.0f : chosen ? chosen->lines : 8.0f) + pad;
  // Beside the block pool or the speculation view (the lesson's own story), the panes may shrink to a few rows.
  const bool few_rows = pool || (chosen && (chosen->view == LessonView::Speculation || chosen->view == LessonView::MemoryWall));
  // A long context's pooled heatmaps need their cells and the newest query's strip: the panes give up rows.
  const bool pooled = c.trace && attention_pooled(*c.trace);
  const float pane_h = lesson_view ? pane_height(c, rest - view_h, 1.0f, few_rows ? 3 : 8)
                                   : pooled ? pane_height(c, rest, 0.4f, 6) : pane_height(c, rest, 0.55f);
  const float half_w = (ImGui::GetContentRegionAvail().x - style.ItemSpacing.x) * 0.5f;
  for (PaneKind pane : kPaneKinds) {
    const bool cached = pane == PaneKind::Cached;
    if (cached) ImGui::SameLine();
    ImGui::BeginChild(cached ? "pane_cached" : "pane_uncached", ImVec2(half_w, pane_h), true);
    draw_kv_rows_panel(c, pane, pane_h);
    ImGui::EndChild();
  }
  draw_bottom(c, lesson_view, half_w);
  ImGui::EndChild();
  ImGui::End();
}

nlohmann::json App::shown_state() const {
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
  const Lesson& lesson = lesson_shown();
  j["lesson"] = {{"name", lesson.name}, {"title", lesson.title}, {"kind", lesson_kind_name(lesson.kind)},
                 {"steps", run_ ? run_->lesson_steps() : 0}};
  j["below_panes"] = lesson_view_name(ui_.below);
  j["calculator"] = ui_.below == LessonView::Calculator;
  j["rotation"] = ui_.below == LessonView::Rotation;
  j["left_pane"] = compared_pane_shown() ? compared_shown_.back().cached.policy.spec : "uncached";
  if (!shown_.empty()) {
    const StepTrace& t = shown_.back();
    j["step"] = t.step;
    j["position"] = t.newest_position();
    j["tokens"] = t.context_texts;
    j["next"] = t.next_text;  // the token this step chose: tokens + next is the text so far
    j["step_ms"] = {{"uncached", t.uncached.ran ? t.uncached.seconds * 1e3 : -1.0},
                    {"cached", t.cached.ran ? t.cached.seconds * 1e3 : -1.0}};
    j["caption"] = caption_.caption.title;
    j["lines"] = shown_reports_.back().lines;
    j["max_abs_logit_diff"] = t.max_abs_logit_diff;  // cached against uncached, this step
    j["top1_agrees"] = t.top1_agrees;
  } else {
    j["step"] = -1;
  }
  // The session's own count, when no worker is changing it: always equal to steps_shown.
  j["session_steps"] = busy() || !run_ ? -1 : run_->steps_done();
  j["kv_head_shown"] = shown_.empty() ? -1 : shown_.back().kv_head_of(ui_.head);
  j["min_text_px"] = min_text_px_;
  j.update(record_.json());  // what the panels declared they drew, and where
  int uploads = 0;
  for (PaneKind pane : kPaneKinds) uploads += heatmaps_[pane] ? heatmaps_[pane]->uploads() : 0;
  j["heatmap_uploads"] = uploads;
  return j;
}

}  // namespace kvscope::gui
