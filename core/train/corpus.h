#pragma once
// Corpus: the sentences a word-level demo model is trained on, and the vocabulary they define.
// One line = one training sequence (a sentence or a short passage); words and punctuation marks are
// split as WordTokenizer::split does, so the trained vocabulary encodes exactly these pieces.
#include <string>
#include <vector>

namespace kvscope {

struct Corpus {
  std::vector<std::string> vocabulary;      // id -> word, in order of first appearance
  std::vector<std::vector<int>> sequences;  // one per line that has words
  int word_count = 0;                       // tokens over all sequences
  std::vector<std::string> lines;           // the text of each sequence (for a subword tokenizer)
};

// Blank lines and lines whose first non-blank character is '#' are skipped. Words are kept as
// written ("Time" and "time" are two tokens). Throws DataError naming source_name when no line has
// a word.
Corpus parse_corpus(const std::string& text, const std::string& source_name);

// Throws DataError naming the file when it cannot be read or holds no words.
Corpus read_corpus(const std::string& path);

}  // namespace kvscope
