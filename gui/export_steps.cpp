#include "gui/export_steps.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "core/error.h"
#include "core/lesson_run.h"
#include "gui/app.h"

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

// The export's pace: one step, two frames to settle the layout, its screenshot, the next step; at the
// end trace.json and the rename.
void App::export_tick() {
  if (quit_ || runner_.busy() || export_waiting_ || !screenshot_request_.empty()) return;
  if (!ui_.error.empty()) return finish_export(ui_.error);
  const int n = run_->lesson_steps();
  if (int(shown_.size()) == exported_) {
    if (exported_ == n) return finish_export("");
    std::string why;
    if (!run_->can_step(&why)) return finish_export("cannot run step " + std::to_string(exported_) + ": " + why);
    request_step();
  } else if (frames_after_last_step_ >= 2) {
    screenshot_request_ = export_temp_ + "/" + step_png_name(exported_);
    export_waiting_ = true;
  }
}

void App::finish_export(const std::string& failure) {
  std::string error = failure;
  if (error.empty()) {
    nlohmann::json doc = lesson_run_to_json(*run_);
    nlohmann::json images = nlohmann::json::array();
    for (int s = 0; s < exported_; ++s) images.push_back(step_png_name(s));
    doc["images"] = images;
    error = write_text_file(export_temp_ + "/trace.json", doc.dump(2) + "\n");
  }
  if (error.empty()) error = move_export_into_place(export_temp_, options_.export_dir);
  if (error.empty()) {
    export_temp_.clear();
  } else {
    remove_folder(export_temp_);
    export_temp_.clear();
    std::cerr << "kvscope: export failed, nothing written to " << options_.export_dir << ": " << error << "\n";
    exit_code_ = 1;
  }
  quit_ = true;
}

}  // namespace kvscope::gui
