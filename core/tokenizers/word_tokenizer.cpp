#include "core/tokenizers/word_tokenizer.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <utility>

#include "core/engine/kernels/error.h"

namespace kvscope {

namespace {
std::string lowered(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '\'' || c == '-' || c >= 0x80; }

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = int(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = int(i);
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool is_punctuation(const std::string& w) { return w.size() == 1 && !is_word_byte(static_cast<unsigned char>(w[0])); }
}  // namespace

WordTokenizer::WordTokenizer(std::vector<std::string> words) : words_(std::move(words)) {
  for (int i = 0; i < int(words_.size()); ++i) {
    exact_.emplace(words_[i], i);
    lowered_.emplace(lowered(words_[i]), i);  // first spelling wins
  }
}

std::vector<std::string> WordTokenizer::parse_word_list(const std::string& text, const std::string& name) {
  std::vector<std::string> words;
  std::istringstream in(text);
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw DataError(name + ": line " + std::to_string(line_number) + " is empty (one word per line)");
    words.push_back(line);
  }
  if (words.empty()) throw DataError(name + ": the word list is empty");
  return words;
}

std::vector<std::string> WordTokenizer::split(const std::string& text) {
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isspace(c)) {
      ++i;
    } else if (is_word_byte(c)) {
      size_t j = i;
      while (j < text.size() && is_word_byte(static_cast<unsigned char>(text[j]))) ++j;
      pieces.push_back(text.substr(i, j - i));
      i = j;
    } else {
      pieces.push_back(text.substr(i, 1));
      ++i;
    }
  }
  return pieces;
}

std::vector<std::string> WordTokenizer::nearest(const std::string& word, int n) const {
  std::vector<std::pair<int, std::string>> scored;
  const std::string target = lowered(word);
  for (const std::string& w : words_) scored.emplace_back(edit_distance(target, lowered(w)), w);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (int i = 0; i < n && i < int(scored.size()); ++i) out.push_back(scored[i].second);
  return out;
}

std::vector<int> WordTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  for (const std::string& piece : split(text)) {
    auto exact = exact_.find(piece);
    if (exact != exact_.end()) {
      ids.push_back(exact->second);
      continue;
    }
    auto loose = lowered_.find(lowered(piece));
    if (loose == lowered_.end()) {
      std::string message = "unknown word '" + piece + "' (not in the " + std::to_string(words_.size()) +
                            "-word demo vocabulary); nearest known words:";
      for (const std::string& w : nearest(piece, 5)) message += " " + w;
      throw DataError(message);
    }
    ids.push_back(loose->second);
  }
  return ids;
}

std::string WordTokenizer::token_text(int id) const {
  if (id < 0 || id >= int(words_.size())) return "<" + std::to_string(id) + ">";
  return words_[id];
}

std::string WordTokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  for (int id : ids) {
    const std::string w = token_text(id);
    if (!text.empty() && !is_punctuation(w)) text += ' ';
    text += w;
  }
  return text;
}

}  // namespace kvscope
