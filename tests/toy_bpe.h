#pragma once
// A hand-made byte-level BPE vocabulary small enough to work out encodings on paper.
// Stand-ins: "Ġ" = space, "Ċ" = newline, "ĉ" = tab, "Ã" "©" = the two bytes of "é".
#include <string>

namespace test {

inline const char* toy_vocab_json() {
  return R"({"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "he": 8, "ll": 9,
             "llo": 10, "hello": 11, "Ġw": 12, "or": 13, "Ġwor": 14, "el": 15, "!": 16, "'": 17,
             "s": 18, "Ċ": 19, "ĉ": 20, "Ã": 21, "©": 22, "t": 23, "i": 24})";
}

// Rank = line order: "h e" merges first, "e l" last.
inline const char* toy_merges_txt() { return "#version: 0.2\nh e\nl l\nll o\nhe llo\nĠ w\no r\nĠw or\ne l\n"; }

}  // namespace test
