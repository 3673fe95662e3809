#include "core/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <queue>
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

// encoder.py repeatedly merges every occurrence of the lowest-ranked adjacent pair, left to right,
// which is quadratic in the piece length. This gives the same result in O(n log n): candidate pairs
// wait in a heap ordered by (rank, position); merging one only creates pairs that contain the new
// symbol, which BPE training ranked after the merge that made it.
std::vector<std::string> BpeTokenizer::merge_piece(const std::string& piece) const {
  const ByteAlphabet& a = byte_alphabet();
  struct Symbol {
    std::string text;
    int prev, next;    // neighbours still alive, -1 at the ends
    int version = 0;   // bumped when the symbol grows or is merged away
  };
  struct Candidate {
    int rank, left, right, left_version, right_version;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  const int n = int(piece.size());
  std::vector<Symbol> symbols;
  for (int i = 0; i < n; ++i) symbols.push_back({a.stand_in[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1});
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto offer = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    auto it = ranks_.find(symbols[left].text + " " + symbols[right].text);
    if (it != ranks_.end()) heap.push({it->second, left, right, symbols[left].version, symbols[right].version});
  };
  for (int i = 0; i + 1 < n; ++i) offer(i, i + 1);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (left.version != c.left_version || right.version != c.right_version || left.next != c.right) continue;
    left.text += right.text;  // the right symbol is absorbed into the left one
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    ++left.version;
    right.version = -1;
    offer(left.prev, c.left);
    offer(c.left, left.next);
  }
  std::vector<std::string> word;
  for (int i = n > 0 ? 0 : -1; i >= 0; i = symbols[i].next) word.push_back(std::move(symbols[i].text));
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
