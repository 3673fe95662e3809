#include "gui/drivers/headless.h"

#include <algorithm>
#include <fstream>
#include <iostream>

#include "core/lessons/lesson_run.h"
#include "gui/drivers/export_steps.h"

namespace kvscope::gui {

bool is_headless(const AppOptions& options) { return options.steps >= 0 || !options.export_dir.empty(); }

HeadlessRun::HeadlessRun(const AppOptions& options)
    : steps_(options.steps), screenshot_(options.screenshot), export_dir_(options.export_dir),
      frame_stats_(options.frame_stats) {
  if (!export_dir_.empty()) export_temp_ = make_export_temp(export_dir_);
}

HeadlessRun::~HeadlessRun() {
  if (!export_temp_.empty()) remove_folder(export_temp_);
}

void HeadlessRun::tick(App& app) {
  if (!export_dir_.empty()) return export_tick(app);
  steps_tick(app);
}

// --steps: one step at a time up to N, then the screenshot once the last step has been drawn twice.
void HeadlessRun::steps_tick(App& app) {
  if (steps_ < 0 || app.should_quit() || app.stepping()) return;
  const UiState& ui = app.ui();
  if (!ui.error.empty() || !ui.input_error.empty()) {
    std::cerr << "kvscope: " << (ui.error.empty() ? ui.input_error : ui.error) << "\n";
    app.quit(1);
    return;
  }
  if (app.steps_shown() < steps_ + 1) {
    std::string why;
    if (!app.run()->can_step(&why)) {
      std::cerr << "kvscope: cannot run step " << app.steps_shown() << ": " << why << "\n";
      app.quit(1);
      return;
    }
    app.request_step();
  } else if (app.frames_after_last_step() >= 2 && frame_stats_ > 0 && int(frame_ms_.size()) < frame_stats_) {
    frame_stats_tick(app);
  } else if (app.frames_after_last_step() >= 2 && !app.screenshot_pending()) {
    if (screenshot_.empty()) return app.quit(0);  // --frame-stats alone
    app.request_screenshot(screenshot_);  // drawn twice: the layout has settled
  }
}

// One tick per frame: the interval since the previous one is a whole frame. After F intervals, the
// JSON line (only it, on stdout).
void HeadlessRun::frame_stats_tick(App&) {
  const auto now = std::chrono::steady_clock::now();
  if (stats_started_) frame_ms_.push_back(std::chrono::duration<double, std::milli>(now - last_frame_).count());
  stats_started_ = true;
  last_frame_ = now;
  if (int(frame_ms_.size()) < frame_stats_) return;
  std::vector<double> sorted = frame_ms_;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&sorted](double q) { return sorted[std::min(sorted.size() - 1, std::size_t(q * double(sorted.size() - 1) + 0.5))]; };
  nlohmann::json j;
  j["frames"] = int(sorted.size());
  j["median_ms"] = at(0.5);
  j["p99_ms"] = at(0.99);
  std::cout << j.dump() << std::endl;
}

// --export-steps: one step, two frames to settle the layout, its screenshot, the next step; at the end
// trace.json and the rename.
void HeadlessRun::export_tick(App& app) {
  if (app.should_quit() || app.stepping() || export_waiting_ || app.screenshot_pending()) return;
  if (!app.ui().error.empty()) return finish_export(app, app.ui().error);
  const int n = app.run()->lesson_steps();
  if (app.steps_shown() == exported_) {
    if (exported_ == n) return finish_export(app, "");
    std::string why;
    if (!app.run()->can_step(&why)) return finish_export(app, "cannot run step " + std::to_string(exported_) + ": " + why);
    app.request_step();
  } else if (app.frames_after_last_step() >= 2) {
    app.request_screenshot(export_temp_ + "/" + step_png_name(exported_));
    export_waiting_ = true;
  }
}

void HeadlessRun::screenshot_written(App& app, const std::string&, const std::string& error) {
  if (!export_dir_.empty()) {
    export_waiting_ = false;
    if (!error.empty()) return finish_export(app, error);
    ++exported_;
    return;
  }
  if (!error.empty()) std::cerr << "kvscope: " << error << "\n";
  app.quit(error.empty() ? 0 : 1);
}

void HeadlessRun::finish_export(App& app, const std::string& failure) {
  std::string error = failure;
  if (error.empty()) {
    nlohmann::json doc = lesson_run_to_json(*app.run());
    nlohmann::json images = nlohmann::json::array();
    for (int s = 0; s < exported_; ++s) images.push_back(step_png_name(s));
    doc["images"] = images;
    error = write_text_file(export_temp_ + "/trace.json", doc.dump(2) + "\n");
  }
  if (error.empty()) error = move_export_into_place(export_temp_, export_dir_);
  if (error.empty()) {
    export_temp_.clear();
    app.quit(0);
    return;
  }
  remove_folder(export_temp_);
  export_temp_.clear();
  std::cerr << "kvscope: export failed, nothing written to " << export_dir_ << ": " << error << "\n";
  app.quit(1);
}

}  // namespace kvscope::gui
