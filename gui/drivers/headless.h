#pragma once
// The window's paths without a person, kept beside the App rather than inside it:
//   --steps N --screenshot PNG  run steps 0..N, write the settled frame, exit (status 1 on any error);
//   --export-steps DIR          every lesson step as DIR/step_NN.png plus DIR/trace.json, all or nothing;
//   --frame-stats F (--steps N) draw F frames at step N, print {"frames", "median_ms", "p99_ms"}, exit;
// main.cpp creates one when the options ask for it and hands it to the App as its driver; the App
// calls tick() once a frame and hands it back each screenshot written (gui/app/app.h: AppDriver).
#include <chrono>
#include <string>
#include <vector>

#include "gui/app/app.h"

namespace kvscope::gui {

bool is_headless(const AppOptions& options);  // --steps or --export-steps

class HeadlessRun final : public AppDriver {
 public:
  // Creates the export's temporary folder; throws UsageError naming DIR when it cannot be written.
  explicit HeadlessRun(const AppOptions& options);
  ~HeadlessRun();  // an export that did not finish leaves nothing behind
  HeadlessRun(const HeadlessRun&) = delete;
  HeadlessRun& operator=(const HeadlessRun&) = delete;

  // Between the App's actions and its layout: asks for the next step or the next screenshot.
  void tick(App& app) override;
  // After a frame was written to path (error: why it was not).
  void screenshot_written(App& app, const std::string& path, const std::string& error) override;

 private:
  void steps_tick(App& app);
  void export_tick(App& app);
  void finish_export(App& app, const std::string& failure);
  void frame_stats_tick(App& app);

  int steps_ = -1;
  std::string screenshot_;
  std::string export_dir_;
  // --export-steps: PNGs go to a temporary folder next to the target, renamed into place at the end.
  std::string export_temp_;
  int exported_ = 0;
  // --frame-stats: the time between consecutive frames (layout, GL, swap) at the last step.
  int frame_stats_ = 0;
  std::vector<double> frame_ms_;
  std::chrono::steady_clock::time_point last_frame_;
  bool stats_started_ = false;
  bool export_waiting_ = false;
};

}  // namespace kvscope::gui
