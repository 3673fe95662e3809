#pragma once
// Reads the current back buffer (width x height pixels) and writes it to a PNG, top row first.
#include <string>

namespace kvscope::gui {

// Returns "" on success, else one line saying what failed.
std::string save_screenshot(const std::string& path, int width, int height);

}  // namespace kvscope::gui
