#include "gui/drivers/export_steps.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/engine/kernels/error.h"

namespace kvscope::gui {

namespace fs = std::filesystem;

std::string make_export_temp(const std::string& dir) {
  std::error_code ec;
  const fs::path target = fs::absolute(fs::path(dir), ec).lexically_normal();
  if (ec || target.filename().empty()) throw UsageError("--export-steps: '" + dir + "' is not a folder name");
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, ec)) throw UsageError("--export-steps: the folder " + parent.string() + " does not exist");
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) throw UsageError("--export-steps: " + dir + " exists and is not a folder");
    if (!fs::is_empty(target, ec)) throw UsageError("--export-steps: " + dir + " exists and is not empty (nothing was written)");
  }
  std::string pattern = target.string() + ".partial-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data()))
    throw UsageError("--export-steps: cannot create a folder next to " + dir + ": " + std::strerror(errno));
  return buffer.data();
}

std::string write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return "cannot write " + path;
  return "";
}

std::string move_export_into_place(const std::string& temp, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) fs::remove(dir, ec);
  fs::rename(temp, dir, ec);
  if (ec) return "cannot rename " + temp + " to " + dir + ": " + ec.message();
  return "";
}

void remove_folder(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

std::string step_png_name(int step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%02d.png", step);
  return name;
}

}  // namespace kvscope::gui
