#include "core/engine/kernels/read_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/engine/kernels/error.h"

namespace kvscope {

std::string read_text_file(const std::string& path, const std::string& what) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw DataError(path + ": cannot open " + what + ": it is a folder");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open " + what);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw DataError(path + ": cannot read " + what);
  return text.str();
}

}  // namespace kvscope
