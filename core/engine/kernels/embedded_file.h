#pragma once
// A file compiled into the binary by kvscope_embed (CMakeLists.txt): the demo models, the built-in
// lessons and the shaders, so kvscope runs offline from any directory.
#include <cstddef>
#include <string>
#include <vector>

namespace kvscope {

struct EmbeddedFile {
  const char* name;  // as given to kvscope_embed, e.g. "config.json"
  const unsigned char* data;
  std::size_t size;
  std::string text() const { return std::string(reinterpret_cast<const char*>(data), size); }
};

// The file called name in a group, or null.
inline const EmbeddedFile* find_embedded(const std::vector<EmbeddedFile>& group, const std::string& name) {
  for (const EmbeddedFile& f : group)
    if (name == f.name) return &f;
  return nullptr;
}

// The browser build's embedded files (scripts/web_libraries.cmake): names read from folder (the page
// preloads them there before main), their bytes kept for the life of the program. A missing file
// reads as empty.
std::vector<EmbeddedFile> read_embedded_folder(const std::string& folder, const std::vector<const char*>& names);

}  // namespace kvscope
