#pragma once
// RegexSplitter: cuts UTF-8 text at the matches of one pattern, run by PCRE2 with real Unicode
// classes (PCRE2_UTF | PCRE2_UCP). Each match is a piece and so is the text between two matches
// (Hugging Face's Split pre-tokenizer with behavior "Isolated"); concatenated, the pieces give the
// text back. Pattern ` ?\w+` on "a bc!" -> ["a", " bc", "!"].
#include <memory>
#include <string>
#include <vector>

namespace kvscope {

class RegexSplitter {
 public:
  // Throws DataError "regex '...' does not compile at offset N: PCRE2's message".
  explicit RegexSplitter(const std::string& pattern);
  // Throws DataError for text that is not valid UTF-8, naming the byte offset, or for a pattern
  // that backtracks past PCRE2's match limit on this text.
  std::vector<std::string> split(const std::string& text) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace kvscope
