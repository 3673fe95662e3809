#include "core/formats/prompts_file.h"

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"

namespace kvscope {

std::vector<PromptLine> parse_prompts(const std::string& text, const std::string& source) {
  std::vector<PromptLine> prompts;
  int line = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line;
    std::string piece = text.substr(begin, end - begin);
    begin = end + 1;
    if (!piece.empty() && piece.back() == '\r') piece.pop_back();
    if (piece.find('\0') != std::string::npos)
      throw DataError(source + " line " + std::to_string(line) + ": a NUL byte (not a text file?)");
    if (piece.find_first_not_of(" \t\r") == std::string::npos) continue;
    prompts.push_back({line, std::move(piece)});
  }
  if (prompts.empty()) throw DataError(source + ": no prompts (write one prompt per line)");
  return prompts;
}

std::vector<PromptLine> load_prompts_file(const std::string& path) {
  return parse_prompts(read_text_file(path, "the prompts file"), path);
}

}  // namespace kvscope
