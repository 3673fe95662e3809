#include "gui/model_loader.h"

#include <exception>
#include <new>

#include "core/model_folder.h"

namespace kvscope::gui {

void ModelLoader::start(const std::string& folder) {
  wait();
  folder_ = folder;
  error_.clear();
  model_ = LoadedModel{};
  done_ = false;
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] {
    try {
      model_ = folder_.empty() ? load_preset("demo") : load_model_folder(folder_);
    } catch (const std::bad_alloc&) {
      error_ = folder_ + ": out of memory while loading the weights";
    } catch (const std::exception& e) {
      error_ = e.what();  // read by the UI thread only after done_ is seen
    }
    done_.store(true, std::memory_order_release);
  });
}

bool ModelLoader::poll() {
  if (!thread_.joinable() || !done_.load(std::memory_order_acquire)) return false;
  thread_.join();
  return true;
}

void ModelLoader::wait() {
  if (thread_.joinable()) thread_.join();
}

double ModelLoader::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

}  // namespace kvscope::gui
