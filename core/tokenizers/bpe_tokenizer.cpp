#include "core/tokenizers/bpe_tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"

namespace kvscope {

namespace {
constexpr int kMaxVocabulary = 1 << 24;  // GPT-2 has 50257 tokens; this only stops absurd ids
}  // namespace

BpeTokenizer::BpeTokenizer(const std::unordered_map<std::string, int>& vocab,
                           const std::vector<std::pair<std::string, std::string>>& merges)
    : ids_(vocab) {
  int size = 0;
  for (const auto& [spelling, id] : vocab) {
    if (id < 0 || id >= kMaxVocabulary) throw DataError("token id " + std::to_string(id) + " is out of range");
    size = std::max(size, id + 1);
  }
  token_bytes_.assign(size, std::string());
  defined_.assign(size, false);
  for (const auto& [spelling, id] : vocab) {
    if (defined_[id]) throw DataError("token id " + std::to_string(id) + " is given to two spellings");
    if (!bytes_of_spelling(spelling, token_bytes_[id]))
      throw DataError("token '" + spelling + "' (id " + std::to_string(id) +
                      ") has a character outside GPT-2's byte alphabet");
    defined_[id] = true;
  }
  for (std::size_t rank = 0; rank < merges.size(); ++rank)
    ranks_.emplace(merges[rank].first + " " + merges[rank].second, int(rank));  // first rank wins
}

namespace {
std::unordered_map<std::string, int> read_vocab_json(const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(read_text_file(path, "the vocabulary"), nullptr, false);
  if (j.is_discarded()) throw DataError(path + ": not valid JSON");
  if (!j.is_object()) throw DataError(path + ": not a JSON object of token -> id");
  std::unordered_map<std::string, int> vocab;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() >= std::uint64_t(kMaxVocabulary))
      throw DataError(path + ": token '" + it.key() + "' has id " + it->dump() + ", not a token id");
    vocab.emplace(it.key(), it->get<int>());
  }
  if (vocab.empty()) throw DataError(path + ": the vocabulary is empty");
  return vocab;
}

// "#version: 0.2" first, then one "left right" pair per line, most frequent (merged first) first.
std::vector<std::pair<std::string, std::string>> read_merges_txt(const std::string& path) {
  std::istringstream in(read_text_file(path, "the merges"));
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const std::size_t space = line.find(' ');
    if (space == 0 || space == std::string::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      throw DataError(path + ": line " + std::to_string(line_number) +
                      " is not two symbols separated by one space: '" + line.substr(0, 60) + "'");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}
}  // namespace

BpeTokenizer BpeTokenizer::from_files(const std::string& vocab_json_path, const std::string& merges_txt_path) {
  std::unordered_map<std::string, int> vocab = read_vocab_json(vocab_json_path);
  std::vector<std::pair<std::string, std::string>> merges = read_merges_txt(merges_txt_path);
  try {
    return BpeTokenizer(vocab, merges);
  } catch (const DataError& e) {
    throw DataError(vocab_json_path + ": " + e.what());
  }
}

std::vector<std::string> BpeTokenizer::merge_piece(const std::string& piece) const {
  return merge_bytes(piece, ranks_);
}

std::vector<int> BpeTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  for (const std::string& piece : pretokenizer_.split(text)) {
    for (const std::string& symbol : merge_piece(piece)) {
      auto it = ids_.find(symbol);
      if (it == ids_.end())
        throw DataError("the vocabulary has no token '" + symbol + "' (needed for '" + piece +
                        "'): vocab.json and merges.txt do not belong together?");
      ids.push_back(it->second);
    }
  }
  return ids;
}

std::string BpeTokenizer::token_text(int id) const {
  if (id < 0 || id >= vocab_size() || !defined_[id]) return "<" + std::to_string(id) + ">";
  return token_bytes_[id];
}

std::string BpeTokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  for (int id : ids) text += token_text(id);
  return text;
}

}  // namespace kvscope
