#pragma once
// Command line of the kvscope window.
#include <string>

#include "gui/app/app.h"

namespace kvscope::gui {

struct WindowOptions {
  AppOptions app;
  int width = 1600, height = 900;
  bool fullscreen = false;
};

// Returns 0 to go on, or the exit status to leave with (0 after --help, 2 for bad arguments, with one
// line on stderr).
int parse_options(int argc, char** argv, WindowOptions& out);

}  // namespace kvscope::gui
