// Controls: pace (step, back, reset, play + speed), the step/position counter, prompt and
// continuation, window, layer and head, theme and font size, screenshot, lesson file, model folder.
#include <cstdio>
#include <string>

#include "core/engine/cache/kv_policy.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

// A step computing or a model loading: the controls that would change the run wait.
bool locked(const PanelContext& c) { return c.busy || c.loading_model; }

// Label on the left, the widget filling the rest of the line.
void label(const char* text, float label_w) {
  ImGui::AlignTextToFramePadding();
  drawn::TextUnformatted(text);
  ImGui::SameLine(label_w);
  ImGui::SetNextItemWidth(-1);
}

void draw_pace(PanelContext& c) {
  const float w = (ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().ItemSpacing.x) / 3.0f;
  ImGui::BeginDisabled(locked(c) || c.history->empty());
  if (ImGui::Button("\xE2\x97\x80 Back", ImVec2(w, 0))) push_action(c, ActionType::Back);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(locked(c) || !c.can_step);
  if (ImGui::Button("Step \xE2\x96\xB6", ImVec2(w, 0))) push_action(c, ActionType::Step);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(locked(c));
  if (ImGui::Button("Reset", ImVec2(w, 0))) push_action(c, ActionType::Reset);
  ImGui::EndDisabled();
  if (ImGui::Button(c.ui->playing ? "Pause" : "Play", ImVec2(w, 0))) push_action(c, ActionType::TogglePlay);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  float speed = c.ui->steps_per_second;
  if (ImGui::SliderFloat("##speed", &speed, 0.2f, 5.0f, "%.1f steps/s")) push_play_speed(c, speed);
  drawn::Label(drawn::figure("play_speed", speed, drawn::format("%.1f", double(speed))) + " steps/s");
}

void draw_counter(PanelContext& c) {
  char text[160];
  if (c.trace)
    std::snprintf(text, sizeof text, "%s \xC2\xB7 position %s \xC2\xB7 %s/%s",
                  drawn::figure("step", c.trace->step, "Step " + std::to_string(c.trace->step)).c_str(),
                  drawn::figure("position", c.trace->newest_position(), std::to_string(c.trace->newest_position())).c_str(),
                  drawn::figure("positions", c.trace->position_end, std::to_string(c.trace->position_end)).c_str(),
                  drawn::figure("context_length", c.config->context_length, std::to_string(c.config->context_length)).c_str());
  else if (c.prompt_texts->empty())
    std::snprintf(text, sizeof text, "No prompt to run");
  else
    std::snprintf(text, sizeof text, "Ready: %s prefills %s token%s", drawn::figure("step", 0, "step 0").c_str(),
                  drawn::figure("prompt_tokens", double(c.prompt_texts->size()), std::to_string(c.prompt_texts->size())).c_str(),
                  c.prompt_texts->size() == 1 ? "" : "s");
  ImGui::PushFont(c.fonts->title);
  drawn::TextWrapped("%s", text);
  ImGui::PopFont();
  if (c.loading_model) {
    drawn::TextWrapped("loading the model\xE2\x80\xA6 %s", drawn::figure("elapsed_seconds", c.loading_seconds, drawn::format("%.1f s", c.loading_seconds)).c_str());
  } else if (c.busy) {
    drawn::TextColored(ImGui::ColorConvertU32ToFloat4(c.pal->text), "computing %s\xE2\x80\xA6 %s",
                       drawn::figure("step", c.busy_step, "step " + std::to_string(c.busy_step)).c_str(),
                       drawn::figure("elapsed_seconds", c.busy_seconds, drawn::format("%.1f s", c.busy_seconds)).c_str());
  } else if (!c.can_step && !c.why_not.empty() && c.trace) {
    drawn::TextWrapped("End: %s", drawn::figure("engine_message", 0, c.why_not).c_str());  // the engine's own refusal
  }
}

void draw_inputs(PanelContext& c, float label_w) {
  bool submit = false;
  label("Prompt", label_w);
  submit |= ImGui::InputText("##prompt", c.fields->prompt, sizeof c.fields->prompt, ImGuiInputTextFlags_EnterReturnsTrue);
  c.record->rect("prompt_field", last_item_rect());
  label("Then", label_w);
  submit |= ImGui::InputText("##continuation", c.fields->continuation, sizeof c.fields->continuation,
                             ImGuiInputTextFlags_EnterReturnsTrue);
  c.record->rect("continuation_field", last_item_rect());
  if (ImGui::IsItemHovered()) drawn::SetTooltip("teacher-forced continuation; empty = the model's own choice");
  label("Window", label_w);
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.45f);
  int window = c.ui->window;
  if (ImGui::InputInt("##window", &window, 1, 4)) push_action(c, ActionType::SetWindow, window < 0 ? 0 : window);
  drawn::Label(drawn::figure("window", c.ui->window, std::to_string(c.ui->window), {{"scope", "next restart"}}));
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("sliding window of W positions (%s = none); applies on Restart", drawn::figure("window", 0, "0").c_str());
  ImGui::SameLine();
  ImGui::BeginDisabled(locked(c));
  if (ImGui::Button("Restart", ImVec2(-1, 0)) || submit) push_action(c, ActionType::SetPrompt);
  ImGui::EndDisabled();
  label("Policy", label_w);
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint("##policy", "full cache", c.fields->policy, sizeof c.fields->policy,
                               ImGuiInputTextFlags_EnterReturnsTrue))
    push_action(c, ActionType::SetPrompt);
  c.record->rect("policy_field", last_item_rect());
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("cache policy of the cached pane, measured against full attention each step:\n"
                      "%s, joined by commas (%s);\n"
                      "empty = the full cache; applies on Enter or Restart",
                      drawn::figure("policy_spec", 0, kv_policy_items()).c_str(), drawn::figure("policy_spec", 0, "sinks:2,window:6").c_str());
  // Right under the fields it is about, so the teacher sees why Restart did nothing.
  if (!c.ui->input_error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, c.pal->bad);
    drawn::TextWrapped("\xE2\x9A\xA0 %s", drawn::figure("app_message", 0, c.ui->input_error).c_str());
    ImGui::PopStyleColor();
  }
}

void draw_pickers(PanelContext& c, float label_w) {
  label("Layer", label_w);
  int layer = c.ui->layer;
  if (ImGui::SliderInt("##layer", &layer, 0, c.config->n_layer - 1, "%d")) push_action(c, ActionType::SetLayer, layer);
  drawn::Label(drawn::figure("layer", c.ui->layer, std::to_string(c.ui->layer)));
  label("Q head", label_w);  // a query head; the K/V panes show the KV head it reads
  int head = c.ui->head;
  if (ImGui::SliderInt("##head", &head, 0, c.config->n_head - 1, "%d")) push_action(c, ActionType::SetHead, head);
  drawn::Label(drawn::figure("head", c.ui->head, std::to_string(c.ui->head)));
  label("Theme", label_w);
  if (ImGui::BeginCombo("##theme", theme_name(c.ui->theme))) {
    for (int t = 0; t < 3; ++t)
      if (ImGui::Selectable(theme_name(ThemeId(t)), int(c.ui->theme) == t)) push_action(c, ActionType::SetTheme, t);
    ImGui::EndCombo();
  }
  label("Text", label_w);
  if (ImGui::Button("A\xE2\x88\x92")) push_action(c, ActionType::FontSmaller);
  ImGui::SameLine();
  if (ImGui::Button("A+")) push_action(c, ActionType::FontBigger);
  ImGui::SameLine();
  bool presentation = c.ui->presentation;
  if (ImGui::Checkbox("Presenter", &presentation)) push_action(c, ActionType::TogglePresentation);
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("text at least %s of the window height (%s at %s)", drawn::figure("text_share", 1.0 / 49, "1/49").c_str(),
                      drawn::figure("text_px", 22, "22 px").c_str(), drawn::figure("window_px", 1080, "1080").c_str());
}

void draw_files(PanelContext& c, float label_w) {
  const float w = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2.0f;
  if (ImGui::Button("Full screen", ImVec2(w, 0))) push_action(c, ActionType::ToggleFullscreen);
  ImGui::SameLine();
  if (ImGui::Button("Screenshot", ImVec2(w, 0))) push_action(c, ActionType::Screenshot);
  label("Lesson", label_w);
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.62f);
  const bool enter = ImGui::InputText("##lesson", c.fields->lesson_path, sizeof c.fields->lesson_path,
                                      ImGuiInputTextFlags_EnterReturnsTrue);
  if (ImGui::IsItemHovered()) drawn::SetTooltip("a lesson file, e.g. examples/lessons/time_flies_fast.json");
  ImGui::SameLine();
  ImGui::BeginDisabled(locked(c));
  if ((ImGui::Button("Open", ImVec2(-1, 0)) || enter) && c.fields->lesson_path[0]) push_action(c, ActionType::LoadLesson, 0, c.fields->lesson_path);
  ImGui::EndDisabled();
  label("Model", label_w);
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.62f);
  const bool model_enter = ImGui::InputTextWithHint("##model", "built-in", c.fields->model_path, sizeof c.fields->model_path,
                                                    ImGuiInputTextFlags_EnterReturnsTrue);
  c.record->rect("model_field", last_item_rect());
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("a Hugging Face GPT-2 folder (config.json, model.safetensors, vocab.json, merges.txt);\n"
                      "empty: the built-in model");
  ImGui::SameLine();
  ImGui::BeginDisabled(locked(c));
  if (ImGui::Button("Load##model", ImVec2(-1, 0)) || model_enter) push_action(c, ActionType::LoadModel, 0, c.fields->model_path);
  ImGui::EndDisabled();
}

}  // namespace

void draw_controls_panel(PanelContext& c) {
  const drawn::PanelScope scope(c.record, "sidebar");
  ImGui::PushFont(c.fonts->title);
  drawn::TextUnformatted("kvscope");
  ImGui::PopFont();
  ImGui::PushStyleColor(ImGuiCol_Text, c.pal->text_muted);
  if (c.config->kv_heads() < c.config->n_head)
    drawn::TextWrapped("%s \xC2\xB7 %s \xC2\xB7 %s, %s", drawn::figure("model_name", 0, c.model_name).c_str(),
                       drawn::figure("layers", c.config->n_layer, std::to_string(c.config->n_layer) + " layers").c_str(),
                       drawn::figure("heads", c.config->n_head, std::to_string(c.config->n_head) + " query heads").c_str(),
                       drawn::figure("kv_heads", c.config->kv_heads(), std::to_string(c.config->kv_heads()) + " KV heads").c_str());
  else
    drawn::TextWrapped("%s \xC2\xB7 %s \xC2\xB7 %s", drawn::figure("model_name", 0, c.model_name).c_str(),
                       drawn::figure("layers", c.config->n_layer, std::to_string(c.config->n_layer) + " layers").c_str(),
                       drawn::figure("heads", c.config->n_head, std::to_string(c.config->n_head) + " heads").c_str());
  ImGui::PopStyleColor();
  drawn::TextWrapped("Lesson: %s", drawn::figure("lesson_text", 0, c.lesson->title).c_str());  // authored
  draw_pace(c);  // above the step's note, so the buttons stay put from step to step
  draw_counter(c);
  // The teacher's note for the step shown (written for the lesson's own prompt).
  const int step = c.trace ? c.trace->step : -1;
  if (step >= 0 && step < int(c.lesson->steps.size()) && !c.lesson->steps[std::size_t(step)].note.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, c.pal->text_muted);
    // The teacher's note is authored text: declared as such, its numbers are the lesson writer's, not the trace's.
    drawn::TextWrapped("Note: %s", drawn::figure("lesson_text", 0, c.lesson->steps[std::size_t(step)].note).c_str());
    ImGui::PopStyleColor();
  }
  ImGui::Separator();
  const float label_w = ImGui::CalcTextSize("Window ").x + ImGui::GetStyle().ItemSpacing.x;
  draw_inputs(c, label_w);
  draw_pickers(c, label_w);
  draw_files(c, label_w);
  if (!c.ui->error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, c.pal->bad);
    drawn::TextWrapped("\xE2\x9A\xA0 %s", drawn::figure("app_message", 0, c.ui->error).c_str());
    ImGui::PopStyleColor();
  } else if (!c.ui->status.empty())
    drawn::TextWrapped("%s", drawn::figure("app_message", 0, c.ui->status).c_str());
  ImGui::PushStyleColor(ImGuiCol_Text, c.pal->text_muted);
  drawn::figure("key_name", 1, "1-9");  // keys, named by their digits
  drawn::TextWrapped("Keys: Space/\xE2\x86\x92 step, \xE2\x86\x90 back, R reset, P play, 1-9 layer, F11, F12, + \xE2\x88\x92");
  ImGui::PopStyleColor();
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("Space or Right: step\nLeft or Backspace: back\nR: reset\nP: play/pause\n1-9: layer\n"
                      "F11: full screen\nF12: screenshot\n+ / -: text size");
}

}  // namespace kvscope::gui
