#pragma once
// kvscope --lesson FILE --export-steps DIR: every step of the lesson as DIR/step_00.png, step_01.png...
// plus DIR/trace.json, all or nothing: the files go to a temporary folder next to DIR, which is renamed
// to DIR only when every file is written.
#include <string>

namespace kvscope::gui {

// Checks DIR (absent, or an empty folder, in a folder that exists) and creates DIR.partial-XXXXXX next
// to it. Throws UsageError naming DIR otherwise.
std::string make_export_temp(const std::string& dir);
// Writes text to path; "" on success, else one line saying what failed.
std::string write_text_file(const std::string& path, const std::string& text);
// Renames temp to dir (replacing an empty dir). "" on success, else one line.
std::string move_export_into_place(const std::string& temp, const std::string& dir);
void remove_folder(const std::string& path);  // recursive; errors ignored
std::string step_png_name(int step);          // "step_07.png"

}  // namespace kvscope::gui
