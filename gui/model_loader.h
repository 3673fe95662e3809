#pragma once
// ModelLoader: opens a GPT-2 folder (or the built-in model) on a worker thread, so reading half a
// gigabyte of weights never freezes the window. The App swaps the model in only when the load
// succeeded; a failure leaves it with the error and the model it had.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/model_source.h"

namespace kvscope::gui {

class ModelLoader {
 public:
  ModelLoader() = default;
  ModelLoader(const ModelLoader&) = delete;
  ModelLoader& operator=(const ModelLoader&) = delete;
  ~ModelLoader() { wait(); }

  bool busy() const { return thread_.joinable(); }
  // Starts loading `folder` ("": the built-in demo model) in the background.
  void start(const std::string& folder);
  // True once, when a started load has finished (then busy() is false): model() or error() holds it.
  bool poll();
  void wait();
  LoadedModel take_model() { return std::move(model_); }
  const std::string& error() const { return error_; }
  const std::string& folder() const { return folder_; }
  double elapsed_seconds() const;

 private:
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::string folder_, error_;
  LoadedModel model_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace kvscope::gui
