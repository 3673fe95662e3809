#pragma once
// BpeTokenizer: GPT-2's byte-level BPE (vocab.json + merges.txt).
// encode: GPT-2's regex cuts the text into pieces; each piece's UTF-8 bytes become printable
// stand-in characters (the byte-to-unicode map: bytes that are visible Latin-1 map to themselves,
// the rest to U+0100 onwards, so a space shows as "Ġ"); then the lowest-ranked adjacent pair is
// merged again and again, and the resulting symbols are looked up in vocab.json.
// decode maps the stand-ins back to bytes exactly. "Time flies fast" -> [7575, 17607, 3049].
// Like GPT-2's encoder.py, "<|endoftext|>" in text is spelled out, not mapped to its special id.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizers/byte_level.h"
#include "core/tokenizers/gpt2_pretokenizer.h"
#include "core/engine/session/tokenizer.h"

namespace kvscope {

class BpeTokenizer : public Tokenizer {
 public:
  // vocab: stand-in spelling -> id; merges: pairs in rank order (first = merged first).
  // Throws DataError for a vocabulary entry outside the byte alphabet or a duplicate id.
  BpeTokenizer(const std::unordered_map<std::string, int>& vocab,
               const std::vector<std::pair<std::string, std::string>>& merges);

  // Throws DataError naming the file when it is unreadable or malformed.
  static BpeTokenizer from_files(const std::string& vocab_json_path, const std::string& merges_txt_path);

  // Throws DataError for text that is not valid UTF-8 (with its byte offset), or when a piece
  // ends in a symbol the vocabulary lacks (an incomplete vocab.json).
  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;  // the original bytes
  std::string token_text(int id) const override;                    // decoded, leading space kept
  int vocab_size() const override { return int(token_bytes_.size()); }

  // Stand-in symbols of one piece after all merges ("Ġflies" -> {"Ġfl", "ies"} with a toy vocabulary).
  std::vector<std::string> merge_piece(const std::string& piece) const;

 private:
  Gpt2Pretokenizer pretokenizer_;
  std::unordered_map<std::string, int> ids_;       // stand-in spelling -> id
  MergeRanks ranks_;                               // "left right" -> merge rank
  std::vector<std::string> token_bytes_;           // id -> original bytes
  std::vector<bool> defined_;                      // ids without an entry decode to "<id>"
};

}  // namespace kvscope
