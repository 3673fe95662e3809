#pragma once
// ModelLoader: opens a GPT-2 folder (or the built-in model) as a BackgroundJob, so reading half a
// gigabyte of weights never freezes the window. The App swaps the model in only when the load
// succeeded; a failure leaves it with the error and the model it had.
#include <string>
#include <utility>

#include "core/formats/model_source.h"
#include "gui/app/background_job.h"

namespace kvscope::gui {

class ModelLoader {
 public:
  bool busy() const { return job_.busy(); }
  // Starts loading `folder` ("": the built-in demo model) in the background.
  void start(const std::string& folder);
  // Starts loading a built-in model by preset name (core builtin_presets()).
  void start_preset(const std::string& name);
  // True once, when a started load has finished (then busy() is false): take_model() or error() holds it.
  bool poll() { return job_.poll(); }
  LoadedModel take_model() { return std::move(model_); }
  const std::string& error() const { return job_.error(); }
  double elapsed_seconds() const { return job_.elapsed_seconds(); }

 private:
  LoadedModel model_;  // declared before job_, so a running load finishes before it is destroyed
  BackgroundJob job_;
};

}  // namespace kvscope::gui
