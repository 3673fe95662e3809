#pragma once
// Gpt2Pretokenizer: GPT-2's first cut of text into pieces before byte-level BPE, with its regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// run by PCRE2 with real Unicode classes (PCRE2_UTF | PCRE2_UCP), like the `regex` module
// GPT-2's encoder.py uses. "Hello  world" -> ["Hello", " ", " world"].
#include <string>
#include <vector>

#include "core/tokenizers/regex_splitter.h"

namespace kvscope {

// The pattern above; Hugging Face's ByteLevel pre-tokenizer with use_regex uses the same one.
extern const char* const kGpt2Pattern;

class Gpt2Pretokenizer {
 public:
  Gpt2Pretokenizer();
  // Pieces in order; concatenated they give text back. Throws DataError for text that is not
  // valid UTF-8, naming the byte offset (GPT-2 tokenises Unicode text, not arbitrary bytes).
  std::vector<std::string> split(const std::string& text) const { return splitter_.split(text); }

 private:
  RegexSplitter splitter_;  // the pattern covers every character, so no text falls between matches
};

}  // namespace kvscope
