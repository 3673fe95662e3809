#include "gui/app/model_loader.h"

#include "core/formats/model_folder.h"

namespace kvscope::gui {

void ModelLoader::start(const std::string& folder) {
  job_.wait();
  model_ = LoadedModel{};
  job_.start([this, folder] { model_ = folder.empty() ? load_preset("demo") : load_model_folder(folder); });
}

void ModelLoader::start_preset(const std::string& name) {
  job_.wait();
  model_ = LoadedModel{};
  job_.start([this, name] { model_ = load_preset(name); });
}

}  // namespace kvscope::gui
