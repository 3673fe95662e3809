#pragma once
// A prompts file for kvscope-cli batch: one prompt per line (UTF-8 text; "\r\n" line ends accepted).
// Blank lines are skipped, so a final newline or a spacer line changes nothing; leading and trailing
// spaces of a prompt are kept (a tokenizer may care).
#include <string>
#include <vector>

namespace kvscope {

struct PromptLine {
  int line = 0;  // 1-based line number in the file, for messages
  std::string text;
};

// Throws DataError "SOURCE: ..." for a NUL byte (not a text file) or a file with no prompt.
std::vector<PromptLine> parse_prompts(const std::string& text, const std::string& source);
// read_text_file + parse_prompts; the path names the file in every message.
std::vector<PromptLine> load_prompts_file(const std::string& path);

}  // namespace kvscope
