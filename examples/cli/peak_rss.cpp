#include "examples/cli/peak_rss.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace kvscope::cli {

long long peak_rss_bytes() {
  // VmHWM follows a restart; getrusage's ru_maxrss is the fallback where /proc is not mounted.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:   1234 kB"
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (long long)usage.ru_maxrss * 1024;  // Linux reports KiB
}

bool restart_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return bool(clear);
}

}  // namespace kvscope::cli
