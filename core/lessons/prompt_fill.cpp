#include "core/lessons/prompt_fill.h"

#include <sstream>
#include <string>

#include "core/engine/kernels/error.h"

namespace kvscope {

namespace {
// The corpus's sentences joined by spaces (one line each in the file).
std::string corpus_text() {
  std::istringstream in(embedded_builtin_corpus().front().text());
  std::string line, text;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') text += (text.empty() ? "" : " ") + line;
  return text;
}
}  // namespace

std::vector<int> text_bytes(const std::string& text) {
  std::vector<int> ids;
  for (unsigned char c : text) ids.push_back(int(c));
  return ids;
}

std::vector<int> fill_prompt(const Tokenizer& tokenizer, std::vector<int> prompt_ids, int length) {
  if (int(prompt_ids.size()) > length)
    throw DataError("the prompt is " + std::to_string(prompt_ids.size()) + " tokens, longer than the length asked for (" +
                    std::to_string(length) + ")");
  std::vector<int> corpus;
  const std::string text = corpus_text();
  if (tokenizer.has_vocabulary()) {
    corpus = tokenizer.encode(" " + text);
  } else {
    corpus = text_bytes(text);
  }
  if (corpus.empty()) throw DataError("the built-in corpus encodes to no tokens");
  for (std::size_t i = 0; int(prompt_ids.size()) < length; i = (i + 1) % corpus.size()) prompt_ids.push_back(corpus[i]);
  return prompt_ids;
}

}  // namespace kvscope
