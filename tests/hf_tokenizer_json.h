#pragma once
// Hand-made tokenizer.json files for the HfTokenizer tests: the toy BPE of toy_bpe.h in Hugging
// Face's layout, which each test then bends (a Split regex, ignore_merges, a template, ...).
#include <nlohmann/json.hpp>
#include <string>

#include "toy_bpe.h"

namespace test {

// toy_bpe.h's vocabulary and merges with GPT-2's ByteLevel pre-tokenizer, two added tokens
// ("<x>" = 25, "<x><y>" = 26) and no post-processor: "hello world" -> [11, 14, 2, 7].
inline nlohmann::json toy_tokenizer_json() {
  using nlohmann::json;
  json merges = json::array();
  for (const char* m : {"h e", "l l", "ll o", "he llo", "Ġ w", "o r", "Ġw or", "e l"}) merges.push_back(m);
  json added = json::array();
  added.push_back({{"id", 25}, {"content", "<x>"}, {"special", true}, {"normalized", false}});
  added.push_back({{"id", 26}, {"content", "<x><y>"}, {"special", false}, {"normalized", false}});
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", json::parse(toy_vocab_json())}, {"merges", merges}}}};
}

}  // namespace test
