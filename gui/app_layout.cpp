// App::layout: where each panel goes, as fractions of the window so 1280x720, 1600x900 and
// 1920x1080 look alike; and App::write_state_file, the test hook.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "gui/app.h"
#include "gui/caption.h"

namespace kvscope::gui {

namespace {

float pane_height(const PaneView* const panes[2], int n_layer, float available) {
  int n_rows = 1;
  for (int i = 0; i < 2; ++i)
    if (panes[i]) n_rows = std::max(n_rows, int(panes[i]->rows.size()));
  // Long sequences scroll inside the pane; the heatmaps keep at least ~45% of the height.
  const float empty = kv_pane_height(0, n_layer);
  const int max_rows = std::max(3, int((available * 0.55f - empty) / line_height()));
  return kv_pane_height(std::min(n_rows, max_rows), n_layer);
}

}  // namespace

void App::layout() {
  const ImGuiIO& io = ImGui::GetIO();
  const ImGuiStyle& style = ImGui::GetStyle();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("kvscope", nullptr, flags);
  std::string why_not;
  const bool can_step = session_ && session_->can_step(&why_not);
  const int step = int(shown_.size()) - 1;
  const PaneView* panes[2] = {step >= 0 ? &panes_[0] : nullptr, step >= 0 ? &panes_[1] : nullptr};
  PanelContext c{shown_,
                 step >= 0 ? &shown_.back() : nullptr,
                 {panes[0], panes[1]},
                 model_.model->config(),
                 model_.name,
                 prompt_texts_,
                 lesson_,
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
                 rects_};

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
  const float caption_h = lh * 4.2f + pad;
  ImGui::BeginChild("caption", ImVec2(0, caption_h), true);
  draw_caption_panel(c);
  ImGui::EndChild();
  ImGui::BeginChild("tokens", ImVec2(0, lh * 3.1f + pad), true);
  draw_tokens_panel(c);
  ImGui::EndChild();
  draw_legend(c);
  const float rest = ImGui::GetContentRegionAvail().y;
  const float pane_h = pane_height(panes, c.config.n_layer, rest);
  const float half_w = (ImGui::GetContentRegionAvail().x - style.ItemSpacing.x) * 0.5f;
  for (int pane = 0; pane < 2; ++pane) {
    if (pane) ImGui::SameLine();
    ImGui::BeginChild(pane ? "pane_cached" : "pane_uncached", ImVec2(half_w, pane_h), true);
    draw_kv_rows_panel(c, pane, pane_h);
    ImGui::EndChild();
  }
  const float heat_h = ImGui::GetContentRegionAvail().y;
  for (int pane = 0; pane < 2; ++pane) {
    if (pane) ImGui::SameLine();
    ImGui::BeginChild(pane ? "heat_cached" : "heat_uncached", ImVec2(half_w, heat_h), true,
                      ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    draw_attention_panel(c, pane, *heatmaps_[pane], heat_h);
    ImGui::EndChild();
  }
  ImGui::EndChild();
  ImGui::End();
}

void App::write_state_file() {
  if (options_.state_file.empty()) return;
  nlohmann::json j;
  j["steps_shown"] = int(shown_.size());
  j["busy"] = runner_.busy();
  j["layer"] = ui_.layer;
  j["head"] = ui_.head;
  j["theme"] = theme_name(ui_.theme);
  j["font_px"] = fonts_.body_px;
  j["error"] = ui_.error;
  j["n_layer"] = model_.model->config().n_layer;
  if (!shown_.empty()) {
    const StepTrace& t = shown_.back();
    j["step"] = t.step;
    j["position"] = t.newest_position();
    j["tokens"] = t.context_texts;
    j["caption"] = make_caption(t).title;
  } else {
    j["step"] = -1;
  }
  auto rect = [](const ScreenRect& r) { return nlohmann::json::array({r.x0, r.y0, r.x1, r.y1}); };
  j["pane_uncached"] = rect(rects_.pane[0]);
  j["pane_cached"] = rect(rects_.pane[1]);
  j["heatmap_uncached"] = rect(rects_.heatmap[0]);
  j["heatmap_cached"] = rect(rects_.heatmap[1]);
  j["heatmap_uploads"] = heatmaps_[0] ? heatmaps_[0]->uploads() + heatmaps_[1]->uploads() : 0;
  const std::string line = j.dump();
  if (line == last_state_) return;
  last_state_ = line;
  std::ofstream out(options_.state_file, std::ios::app);
  out << line << "\n";
}

}  // namespace kvscope::gui
