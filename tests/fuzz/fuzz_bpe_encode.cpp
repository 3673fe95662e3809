// Arbitrary bytes through GPT-2 pre-tokenisation and BPE with a complete byte-level vocabulary:
// valid UTF-8 must round-trip exactly; invalid UTF-8 must be a DataError.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizers/bpe_tokenizer.h"
#include "core/engine/kernels/error.h"

namespace {
// The 256 byte stand-ins of GPT-2's byte-to-unicode map, as UTF-8, plus a few merges.
const kvscope::BpeTokenizer& tokenizer() {
  static const kvscope::BpeTokenizer instance = [] {
    std::unordered_map<std::string, int> vocab;
    auto utf8 = [](int cp) {
      std::string s;
      if (cp < 0x80) {
        s += char(cp);
      } else {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
      }
      return s;
    };
    int next_extra = 256;
    std::vector<std::string> by_byte(256);
    for (int b = 0; b < 256; ++b) {
      const bool visible = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      by_byte[b] = utf8(visible ? b : next_extra++);
      vocab[by_byte[b]] = b;
    }
    std::vector<std::pair<std::string, std::string>> merges = {
        {by_byte[' '], "t"}, {by_byte[' '] + "t", "h"}, {"e", "r"}, {"i", "n"}};
    int id = 256;
    for (const auto& m : merges) vocab[m.first + m.second] = id++;
    return kvscope::BpeTokenizer(vocab, merges);
  }();
  return instance;
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<int> ids = tokenizer().encode(text);
    if (!valid_utf8(text)) std::abort();               // invalid input must be refused
    if (tokenizer().decode(ids) != text) std::abort();  // and valid input must round-trip
  } catch (const kvscope::DataError&) {
    if (valid_utf8(text)) std::abort();  // valid UTF-8 is always encodable with every byte in the vocabulary
  }
  return 0;
}
