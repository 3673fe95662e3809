#pragma once
// WordTokenizer: one token per word or punctuation mark, for the demo model.
// "Time flies fast" -> ["Time", "flies", "fast"]. Matching is exact first, then case-insensitive.
#include <string>
#include <unordered_map>
#include <vector>

#include "core/engine/session/tokenizer.h"

namespace kvscope {

class WordTokenizer : public Tokenizer {
 public:
  explicit WordTokenizer(std::vector<std::string> words);

  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  std::string token_text(int id) const override;
  int vocab_size() const override { return int(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }

  // vocab.txt's text: one word per line, line i = id i. Throws DataError naming `name`.
  static std::vector<std::string> parse_word_list(const std::string& text, const std::string& name);
  // Splits text into words and single punctuation marks (the pieces encode() looks up).
  static std::vector<std::string> split(const std::string& text);
  // Up to n known words closest to word by edit distance (case-insensitive), nearest first.
  std::vector<std::string> nearest(const std::string& word, int n) const;

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, int> exact_;
  std::unordered_map<std::string, int> lowered_;
};

}  // namespace kvscope
