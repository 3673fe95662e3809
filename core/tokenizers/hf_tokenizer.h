#pragma once
// HfTokenizer: a Hugging Face tokenizer.json for byte-level BPE models (Llama 3, Qwen2/3, SmolLM2,
// GPT-2) and for SentencePiece-style BPE with byte fallback (Gemma 3). encode:
//   1. added tokens ("<|begin_of_text|>", "<think>", ...) are found in the raw text, longest first,
//      and become their ids directly;
//   2. the text between them is normalised (NFC when the file says so) and cut into pieces by the
//      pre-tokenizer's regexes, read from the file (Split "Isolated", or ByteLevel's GPT-2 regex);
//   3. each piece is byte-level BPE (core/tokenizers/byte_level.h): with ignore_merges a piece that
//      is itself in the vocabulary is one token, otherwise its stand-ins are merged by rank.
// With byte_fallback (Gemma 3) the normalizer's Replace steps run first (" " -> "▁"), the vocabulary
// is spelled in text, not stand-ins; a piece starts as its characters, a character the vocabulary
// lacks as its UTF-8 bytes' <0xNN> tokens, and pairs merge by rank, lowest first (Hugging Face's
// Word::merge_all). Decoding undoes the decoder's Replace steps ("▁" -> " ") and joins the bytes.
// decode gives back the exact bytes (added tokens as their content).
// "Hello world" with Llama 3 -> [9906, 1917]; encode_with_special adds <|begin_of_text|> when the
// file's post-processor (or tokenizer_config.json's add_bos_token) says so.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/engine/session/tokenizer.h"
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
    std::string merged_with_previous;  // Split {"String": s} "MergedWithPrevious": cut after each s
  };
  std::unordered_map<std::string, int> vocab;  // stand-in spelling -> id
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  std::vector<AddedToken> added_tokens;
  std::vector<Stage> stages;
  bool nfc = false, ignore_merges = false;
  bool byte_fallback = false;  // SentencePiece-style BPE (no ByteLevel step): see above
  std::vector<std::pair<std::string, std::string>> replacements;         // normalizer Replace, in order
  std::vector<std::pair<std::string, std::string>> decode_replacements;  // decoder Replace, in order
  int unk_id = -1;       // byte_fallback: what a character without a token (nor byte tokens) becomes
  bool fuse_unk = false;
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
  // Ids of the BPE model's own vocabulary (model.vocab), without added tokens past it: what a
  // model's embedding must cover (Gemma 3's tokenizer adds <image_soft_token> as id 262144 beyond the
  // text model's 262144 rows).
  int model_vocab_size() const { return model_vocab_size_; }

  // The id encode_with_special puts first when it is a BOS token, else none.
  std::optional<int> bos_id() const;
  bool adds_bos() const { return bos_id().has_value(); }

 private:
  void encode_plain(const std::string& text, std::vector<int>& ids) const;
  void encode_fallback_piece(const std::string& piece, std::vector<int>& ids) const;
  std::vector<std::string> pre_tokenize(const std::string& text) const;

  std::unordered_map<std::string, int> ids_;   // stand-in spelling -> id
  MergeRanks ranks_;                           // "left right" -> merge rank
  std::vector<std::string> token_bytes_;       // id -> decoded bytes
  std::vector<bool> defined_;                  // ids without an entry decode to "<id>"
  std::vector<HfTokenizerSpec::AddedToken> added_;  // longest content first
  std::vector<std::vector<int>> added_by_byte_;     // first byte -> indices into added_
  struct Stage {
    bool add_prefix_space;
    std::optional<RegexSplitter> splitter;
    std::string merged_with_previous;
  };
  std::vector<Stage> stages_;
  bool nfc_, ignore_merges_, byte_fallback_;
  std::vector<std::pair<std::string, std::string>> replacements_;
  std::unordered_map<std::uint64_t, std::pair<int, int>> id_merges_;  // byte_fallback: (left, right) ids -> (rank, merged id)
  std::vector<int> byte_ids_;  // byte_fallback: id of <0xNN> per byte, -1 when absent
  int unk_id_ = -1;
  bool fuse_unk_ = false;
  std::vector<int> prefix_ids_, suffix_ids_;
  int model_vocab_size_ = 0;
};

}  // namespace kvscope
