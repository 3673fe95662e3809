#include "core/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace kvscope {

namespace {
constexpr int kNoByte = -1;
constexpr int kMaxVocabulary = 1 << 24;  // GPT-2 has 50257 tokens; this only stops absurd ids

struct ByteAlphabet {
  std::array<std::string, 256> stand_in;  // byte -> UTF-8 of its stand-in character
  std::array<int, 0x144> byte_of;          // stand-in code point -> byte, or kNoByte
};

std::string utf8_of(int code_point) {
  if (code_point < 0x80) return std::string(1, char(code_point));
  return {char(0xc0 | (code_point >> 6)), char(0x80 | (code_point & 0x3f))};  // < 0x800 here
}

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves; the other 68 bytes
// take U+0100.. in byte order, so no stand-in is whitespace or a control character.
const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet = [] {
    ByteAlphabet a;
    a.byte_of.fill(kNoByte);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      const int code_point = printable ? b : next++;
      a.stand_in[b] = utf8_of(code_point);
      a.byte_of[code_point] = b;
    }
    return a;
  }();
  return alphabet;
}

// Original bytes of a vocabulary spelling; false when a character is not a stand-in.
bool bytes_of_spelling(const std::string& spelling, std::string& bytes) {
  const ByteAlphabet& a = byte_alphabet();
  bytes.clear();
  for (std::size_t i = 0; i < spelling.size();) {
    const unsigned char c = static_cast<unsigned char>(spelling[i]);
    int code_point = -1;
    if (c < 0x80) {
      code_point = c;
      i += 1;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < spelling.size()) {
      code_point = (c & 0x1f) << 6 | (static_cast<unsigned char>(spelling[i + 1]) & 0x3f);
      i += 2;
    }
    if (code_point < 0 || code_point >= int(a.byte_of.size()) || a.byte_of[code_point] == kNoByte) return false;
    bytes += char(a.byte_of[code_point]);
  }
  return true;
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open " + what);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw DataError(path + ": cannot read " + what);
  return text.str();
}
}  // namespace

BpeTokenizer::BpeTokenizer(const std::unordered_map<std::string, int>& vocab,
                           const std::vector<std::pair<std::string, std::string>>& merges)
    : ids_(vocab) {
  int size = 0;
  for (const auto& [spelling, id] : vocab) {
    if (id < 0 || id >= kMaxVocabulary) throw DataError("token id " + std::to_string(id) + " is out of range");
    size = std::max(size, id + 1);
  }
  token_bytes_.assign(size, std::string());
  defined_.assign(size, false);
  for (const auto& [spelling, id] : vocab) {
    if (defined_[id]) throw DataError("token id " + std::to_string(id) + " is given to two spellings");
    if (!bytes_of_spelling(spelling, token_bytes_[id]))
      throw DataError("token '" + spelling + "' (id " + std::to_string(id) +
                      ") has a character outside GPT-2's byte alphabet");
    defined_[id] = true;
  }
  for (std::size_t rank = 0; rank < merges.size(); ++rank)
    ranks_.emplace(merges[rank].first + " " + merges[rank].second, int(rank));  // first rank wins
}

namespace {
std::unordered_map<std::string, int> read_vocab_json(const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(read_file(path, "the vocabulary"), nullptr, false);
  if (j.is_discarded()) throw DataError(path + ": not valid JSON");
  if (!j.is_object()) throw DataError(path + ": not a JSON object of token -> id");
  std::unordered_map<std::string, int> vocab;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() >= std::uint64_t(kMaxVocabulary))
      throw DataError(path + ": token '" + it.key() + "' has id " + it->dump() + ", not a token id");
    vocab.emplace(it.key(), it->get<int>());
  }
  if (vocab.empty()) throw DataError(path + ": the vocabulary is empty");
  return vocab;
}

// "#version: 0.2" first, then one "left right" pair per line, most frequent (merged first) first.
std::vector<std::pair<std::string, std::string>> read_merges_txt(const std::string& path) {
  std::istringstream in(read_file(path, "the merges"));
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const std::size_t space = line.find(' ');
    if (space == 0 || space == std::string::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      throw DataError(path + ": line " + std::to_string(line_number) +
                      " is not two symbols separated by one space: '" + line.substr(0, 60) + "'");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}
}  // namespace

BpeTokenizer BpeTokenizer::from_files(const std::string& vocab_json_path, const std::string& merges_txt_path) {
  std::unordered_map<std::string, int> vocab = read_vocab_json(vocab_json_path);
  std::vector<std::pair<std::string, std::string>> merges = read_merges_txt(merges_txt_path);
  try {
    return BpeTokenizer(vocab, merges);
  } catch (const DataError& e) {
    throw DataError(vocab_json_path + ": " + e.what());
  }
}

std::vector<std::string> BpeTokenizer::merge_piece(const std::string& piece) const {
  const ByteAlphabet& a = byte_alphabet();
  std::vector<std::string> word;
  for (unsigned char b : piece) word.push_back(a.stand_in[b]);
  while (word.size() > 1) {
    // The adjacent pair merged earliest in training goes first.
    int best_rank = -1;
    std::string best_left, best_right;
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = ranks_.find(word[i] + " " + word[i + 1]);
      if (it != ranks_.end() && (best_rank < 0 || it->second < best_rank)) {
        best_rank = it->second;
        best_left = word[i];
        best_right = word[i + 1];
      }
    }
    if (best_rank < 0) break;
    // Merge every occurrence of that pair, left to right, as encoder.py does.
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == best_left && word[i + 1] == best_right) {
        merged.push_back(best_left + best_right);
        i += 2;
      } else {
        merged.push_back(word[i]);
        i += 1;
      }
    }
    word.swap(merged);
  }
  return word;
}

std::vector<int> BpeTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  for (const std::string& piece : pretokenizer_.split(text)) {
    for (const std::string& symbol : merge_piece(piece)) {
      auto it = ids_.find(symbol);
      if (it == ids_.end())
        throw DataError("the vocabulary has no token '" + symbol + "' (needed for '" + piece +
                        "'): vocab.json and merges.txt do not belong together?");
      ids.push_back(it->second);
    }
  }
  return ids;
}

std::string BpeTokenizer::token_text(int id) const {
  if (id < 0 || id >= vocab_size() || !defined_[id]) return "<" + std::to_string(id) + ">";
  return token_bytes_[id];
}

std::string BpeTokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  for (int id : ids) text += token_text(id);
  return text;
}

}  // namespace kvscope
