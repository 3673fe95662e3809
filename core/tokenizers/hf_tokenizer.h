#pragma once
// HfTokenizer: a Hugging Face tokenizer.json for byte-level BPE models (Llama 3, Qwen2/3, SmolLM2,
// GPT-2). encode:
//   1. added tokens ("<|begin_of_text|>", "<think>", ...) are found in the raw text, longest first,
//      and become their ids directly;
//   2. the text between them is normalised (NFC when the file says so) and cut into pieces by the
//      pre-tokenizer's regexes, read from the file (Split "Isolated", or ByteLevel's GPT-2 regex);
//   3. each piece is byte-level BPE (core/tokenizers/byte_level.h): with ignore_merges a piece that
//      is itself in the vocabulary is one token, otherwise its stand-ins are merged by rank.
// decode gives back the exact bytes (added tokens as their content).
// "Hello world" with Llama 3 -> [9906, 1917]; encode_with_special adds <|begin_of_text|> when the
// file's post-processor (or tokenizer_config.json's add_bos_token) says so.
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/engine/tokenizer.h"
#include "core/tokenizers/byte_level.h"
#include "core/tokenizers/regex_splitter.h"

namespace kvscope {

// What tokenizer.json (and tokenizer_config.json) say, checked only for its JSON shape.
struct HfTokenizerSpec {
  struct AddedToken {
    std::string content;
    int id = 0;
    bool special = false;
  };
  // One cutting step of the pre-tokenizer, applied to every piece of the step before.
  struct Stage {
    bool add_prefix_space = false;  // ByteLevel's: a piece not starting with ' ' gets one
    std::string pattern;             // empty: no cut
  };
  std::unordered_map<std::string, int> vocab;  // stand-in spelling -> id
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  std::vector<AddedToken> added_tokens;
  std::vector<Stage> stages;
  bool nfc = false, ignore_merges = false;
  std::vector<int> prefix_ids, suffix_ids;  // what encode_with_special puts around the text
};

class HfTokenizer : public Tokenizer {
 public:
  // Throws DataError for a vocabulary id out of range or given twice, a spelling outside the byte
  // alphabet, a merge naming a token the vocabulary lacks, or a regex PCRE2 cannot compile.
  explicit HfTokenizer(const HfTokenizerSpec& spec);

  // Reads tokenizer.json and, when it is there, tokenizer_config.json beside it. Throws DataError
  // "PATH: problem" for anything unreadable, malformed or not byte-level BPE.
  static HfTokenizer from_file(const std::string& tokenizer_json_path);
  // The same from the file's text (a built-in model); `name` stands in for the path in messages.
  static HfTokenizer from_text(const std::string& json_text, const std::string& name);

  // Added tokens written in the text count as themselves; nothing is added around the text.
  // Throws DataError for text that is not valid UTF-8 (with its byte offset).
  std::vector<int> encode(const std::string& text) const override;
  // encode() with the post-processor's special tokens around it (Llama 3: <|begin_of_text|> first).
  std::vector<int> encode_with_special(const std::string& text) const;
  // encode() after the BOS token when the files add one.
  std::vector<int> encode_prompt(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;  // the original bytes
  // Decoded text of one token; bytes that are not UTF-8 on their own show as <0xNN>.
  std::string token_text(int id) const override;
  int vocab_size() const override { return int(token_bytes_.size()); }

  // The id encode_with_special puts first when it is a BOS token, else none.
  std::optional<int> bos_id() const;
  bool adds_bos() const { return bos_id().has_value(); }

 private:
  void encode_plain(const std::string& text, std::vector<int>& ids) const;
  std::vector<std::string> pre_tokenize(const std::string& text) const;

  struct Stage {
    bool add_prefix_space;
    std::optional<RegexSplitter> splitter;
  };
  std::unordered_map<std::string, int> ids_;   // stand-in spelling -> id
  MergeRanks ranks_;                           // "left right" -> merge rank
  std::vector<std::string> token_bytes_;       // id -> decoded bytes
  std::vector<bool> defined_;                  // ids without an entry decode to "<id>"
  std::vector<HfTokenizerSpec::AddedToken> added_;  // longest content first
  std::vector<std::vector<int>> added_by_byte_;     // first byte -> indices into added_
  std::vector<Stage> stages_;
  bool nfc_, ignore_merges_;
  std::vector<int> prefix_ids_, suffix_ids_;
};

}  // namespace kvscope
