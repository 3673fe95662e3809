#pragma once
// The one way core/ reads a whole file, with one message style: "PATH: cannot open WHAT".
#include <string>

namespace kvscope {

// Throws DataError "PATH: cannot open WHAT" (missing, unreadable, or a folder) or "PATH: cannot read
// WHAT" (an error mid-read). what names the file's role: "the corpus file", "config.json", ...
std::string read_text_file(const std::string& path, const std::string& what);

}  // namespace kvscope
