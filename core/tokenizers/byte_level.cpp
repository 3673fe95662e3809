#include "core/tokenizers/byte_level.h"

#include <array>
#include <functional>
#include <queue>

namespace kvscope {

namespace {
constexpr int kNoByte = -1;

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
}  // namespace

const std::string& byte_stand_in(unsigned char byte) { return byte_alphabet().stand_in[byte]; }

std::string stand_in_spelling(const std::string& bytes) {
  std::string spelling;
  for (char c : bytes) spelling += byte_stand_in(static_cast<unsigned char>(c));
  return spelling;
}

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

// encoder.py repeatedly merges every occurrence of the lowest-ranked adjacent pair, left to right,
// which is quadratic in the piece length. This gives the same result in O(n log n): candidate pairs
// wait in a heap ordered by (rank, position); merging one only creates pairs that contain the new
// symbol, which BPE training ranked after the merge that made it.
std::vector<std::string> merge_bytes(const std::string& piece, const MergeRanks& ranks) {
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
  for (int i = 0; i < n; ++i) symbols.push_back({byte_stand_in(static_cast<unsigned char>(piece[i])), i - 1, i + 1 < n ? i + 1 : -1});
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto offer = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    auto it = ranks.find(symbols[left].text + " " + symbols[right].text);
    if (it != ranks.end()) heap.push({it->second, left, right, symbols[left].version, symbols[right].version});
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

}  // namespace kvscope
