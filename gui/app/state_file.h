#pragma once
// --state-file, the test hook: appends what the window shows as one JSON line whenever it differs from
// the last line written (gui/app/app_layout.cpp builds it; tests/gui reads it).
#include <string>

#include <nlohmann/json.hpp>

namespace kvscope::gui {

class StateFile {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}
  void write(const nlohmann::json& state);

 private:
  std::string path_;
  std::string last_;
};

}  // namespace kvscope::gui
