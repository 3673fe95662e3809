#include "core/train/corpus.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"
#include "core/tokenizers/word_tokenizer.h"

namespace kvscope {

Corpus parse_corpus(const std::string& text, const std::string& source_name) {
  Corpus corpus;
  std::unordered_map<std::string, int> ids;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::vector<int> sequence;
    for (const std::string& word : WordTokenizer::split(line)) {
      auto found = ids.find(word);
      if (found == ids.end()) {
        found = ids.emplace(word, int(corpus.vocabulary.size())).first;
        corpus.vocabulary.push_back(word);
      }
      sequence.push_back(found->second);
    }
    if (sequence.empty()) continue;
    corpus.word_count += int(sequence.size());
    corpus.sequences.push_back(std::move(sequence));
    corpus.lines.push_back(line.substr(first));
  }
  if (corpus.sequences.empty()) throw DataError(source_name + ": the corpus has no words (one sentence per line)");
  return corpus;
}

Corpus read_corpus(const std::string& path) {
  return parse_corpus(read_text_file(path, "the corpus file"), path);
}

}  // namespace kvscope
