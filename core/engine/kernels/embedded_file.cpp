#include "core/engine/kernels/embedded_file.h"

#include <deque>
#include <fstream>
#include <iterator>

namespace kvscope {

std::vector<EmbeddedFile> read_embedded_folder(const std::string& folder, const std::vector<const char*>& names) {
  static std::deque<std::string> kept;  // a deque never moves what it holds
  std::vector<EmbeddedFile> files;
  for (const char* name : names) {
    std::ifstream in(folder + "/" + name, std::ios::binary);
    kept.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    files.push_back({name, reinterpret_cast<const unsigned char*>(kept.back().data()), kept.back().size()});
  }
  return files;
}

}  // namespace kvscope
