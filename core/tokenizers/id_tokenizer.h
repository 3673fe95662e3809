#pragma once
// IdTokenizer: for models without a vocabulary (the random gpt2-small preset). Tokens show as
// "#id"; text cannot be encoded, so prompts are given as ids.
#include <string>
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/engine/session/tokenizer.h"

namespace kvscope {

class IdTokenizer : public Tokenizer {
 public:
  explicit IdTokenizer(int vocab_size) : vocab_size_(vocab_size) {}
  std::vector<int> encode(const std::string&) const override {
    throw UsageError("this model has no vocabulary: give the prompt as token ids (--ids)");
  }
  std::string decode(const std::vector<int>& ids) const override {
    std::string text;
    for (int id : ids) text += (text.empty() ? "" : " ") + token_text(id);
    return text;
  }
  std::string token_text(int id) const override { return "#" + std::to_string(id); }
  int vocab_size() const override { return vocab_size_; }
  bool has_vocabulary() const override { return false; }

 private:
  int vocab_size_;
};

}  // namespace kvscope
