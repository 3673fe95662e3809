#include "gui/app/state_file.h"

#include <fstream>

namespace kvscope::gui {

void StateFile::write(const nlohmann::json& state) {
  const std::string line = state.dump();
  if (line == last_) return;
  last_ = line;
  std::ofstream out(path_, std::ios::app);
  out << line << "\n";
}

}  // namespace kvscope::gui
