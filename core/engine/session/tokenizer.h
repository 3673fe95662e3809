#pragma once
// Tokenizer: text <-> token ids. The demo model uses WordTokenizer; GPT-2 folders use byte-level BPE.
#include <string>
#include <vector>

namespace kvscope {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Throws DataError for text the vocabulary cannot express (naming the piece and what is near it).
  virtual std::vector<int> encode(const std::string& text) const = 0;
  // A prompt as the model was trained to start: with the BOS token where the tokenizer's files
  // add one (Llama 3's <|begin_of_text|>); continuations use encode().
  virtual std::vector<int> encode_prompt(const std::string& text) const { return encode(text); }
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  // The text of one token as shown on screen (for BPE, with the leading space kept).
  virtual std::string token_text(int id) const = 0;
  virtual int vocab_size() const = 0;
  // False for a model without a vocabulary (ids only): encode() then refuses any text.
  virtual bool has_vocabulary() const { return true; }
};

}  // namespace kvscope
