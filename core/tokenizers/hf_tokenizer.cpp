#include "core/tokenizers/hf_tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <queue>

#include <utf8proc.h>

#include "core/engine/kernels/error.h"

namespace kvscope {

namespace {
constexpr int kMaxVocabulary = 1 << 24;  // Llama 3 has 128256 tokens; this only stops absurd ids

// Throws DataError at the first byte that does not start a valid UTF-8 character.
void check_utf8(const std::string& text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  for (std::size_t i = 0; i < text.size();) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + i, utf8proc_ssize_t(text.size() - i), &code_point);
    if (n <= 0) throw DataError("text is not valid UTF-8 at byte " + std::to_string(i));
    i += std::size_t(n);
  }
}

// Canonical composition (NFC), as Qwen's "normalizer": {"type": "NFC"} asks; the text is valid UTF-8.
std::string nfc(const std::string& text) {
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          utf8proc_ssize_t(text.size()), &out, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> owned(out, std::free);
  if (n < 0) throw DataError(std::string("cannot normalise text to NFC: ") + utf8proc_errmsg(n));
  return std::string(reinterpret_cast<const char*>(out), std::size_t(n));
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// "<0x0A>" -> 10; -1 for any other spelling.
int byte_token_value(const std::string& spelling) {
  if (spelling.size() != 6 || spelling.compare(0, 3, "<0x") != 0 || spelling[5] != '>') return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = spelling[std::size_t(i)];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

std::uint64_t pair_key(int left, int right) { return (std::uint64_t(std::uint32_t(left)) << 32) | std::uint32_t(right); }
}  // namespace

HfTokenizer::HfTokenizer(const HfTokenizerSpec& spec)
    : ids_(spec.vocab), nfc_(spec.nfc), ignore_merges_(spec.ignore_merges), byte_fallback_(spec.byte_fallback),
      replacements_(spec.replacements), unk_id_(spec.unk_id), fuse_unk_(spec.fuse_unk),
      prefix_ids_(spec.prefix_ids), suffix_ids_(spec.suffix_ids) {
  int size = 0;
  auto check_id = [&](int id, const std::string& what) {
    if (id < 0 || id >= kMaxVocabulary) throw DataError(what + " has id " + std::to_string(id) + ", out of range");
    size = std::max(size, id + 1);
  };
  for (const auto& [spelling, id] : spec.vocab) check_id(id, "vocabulary token '" + spelling + "'");
  model_vocab_size_ = size;
  for (const auto& added : spec.added_tokens) check_id(added.id, "added token '" + added.content + "'");
  token_bytes_.assign(size, std::string());
  defined_.assign(size, false);
  for (const auto& [spelling, id] : spec.vocab) {
    if (defined_[id]) throw DataError("vocabulary id " + std::to_string(id) + " is given to two tokens");
    if (byte_fallback_) {  // spelled in text: <0xNN> is one byte, the rest as the decoder's Replace steps say
      const int byte = byte_token_value(spelling);
      token_bytes_[id] = byte >= 0 ? std::string(1, char(byte)) : spelling;
      if (byte < 0)
        for (const auto& [from, to] : spec.decode_replacements) replace_all(token_bytes_[id], from, to);
      defined_[id] = true;
      continue;
    }
    if (!bytes_of_spelling(spelling, token_bytes_[id]))
      throw DataError("vocabulary token '" + spelling + "' (id " + std::to_string(id) +
                      ") has a character outside the byte-level alphabet");
    defined_[id] = true;
  }
  for (std::size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    for (const std::string& token : {left, right, left + right})
      if (!ids_.count(token))
        throw DataError("merge " + std::to_string(rank) + " ('" + left + " " + right + "') needs token '" + token +
                        "', which is not in the vocabulary");
    ranks_.emplace(left + " " + right, int(rank));  // first rank wins
    if (byte_fallback_) id_merges_.emplace(pair_key(ids_.at(left), ids_.at(right)), std::make_pair(int(rank), ids_.at(left + right)));
  }
  if (byte_fallback_) {
    byte_ids_.assign(256, -1);
    for (const auto& [spelling, id] : spec.vocab)
      if (byte_token_value(spelling) >= 0) byte_ids_[std::size_t(byte_token_value(spelling))] = id;
    if (unk_id_ >= size) throw DataError("unk_token has id " + std::to_string(unk_id_) + ", out of range");
  }
  for (const auto& added : spec.added_tokens) {
    if (added.content.empty()) throw DataError("added token " + std::to_string(added.id) + " has empty content");
    token_bytes_[added.id] = added.content;  // an added token decodes as its content, as in Hugging Face
    if (byte_fallback_)  // ...after the decoder's Replace steps, which run over every token ("▁▁" is "  ")
      for (const auto& [from, to] : spec.decode_replacements) replace_all(token_bytes_[added.id], from, to);
    defined_[added.id] = true;
    added_.push_back(added);
  }
  std::stable_sort(added_.begin(), added_.end(),
                   [](const auto& a, const auto& b) { return a.content.size() > b.content.size(); });
  added_by_byte_.assign(256, {});
  for (std::size_t i = 0; i < added_.size(); ++i)
    added_by_byte_[static_cast<unsigned char>(added_[i].content[0])].push_back(int(i));
  for (const std::vector<int>* ids : {&prefix_ids_, &suffix_ids_})  // each must be a token the model can embed
    for (int id : *ids)
      if (id < 0 || id >= size || !defined_[std::size_t(id)])
        throw DataError("post-processor token id " + std::to_string(id) + " is not a token of the vocabulary");
  for (const auto& stage : spec.stages) {
    stages_.push_back({stage.add_prefix_space, std::nullopt, stage.merged_with_previous});
    if (!stage.pattern.empty()) stages_.back().splitter.emplace(stage.pattern);
  }
}

std::vector<std::string> HfTokenizer::pre_tokenize(const std::string& text) const {
  std::vector<std::string> pieces = {text}, next;
  for (const Stage& stage : stages_) {
    next.clear();
    for (std::string& piece : pieces) {
      if (stage.add_prefix_space && !piece.empty() && piece[0] != ' ') piece.insert(0, 1, ' ');
      if (!stage.merged_with_previous.empty()) {  // each match ends the piece it closes
        const std::string& m = stage.merged_with_previous;
        std::size_t start = 0;
        for (std::size_t at = piece.find(m); at != std::string::npos; at = piece.find(m, start)) {
          next.push_back(piece.substr(start, at + m.size() - start));
          start = at + m.size();
        }
        if (start < piece.size()) next.push_back(piece.substr(start));
        continue;
      }
      if (!stage.splitter) {
        next.push_back(std::move(piece));
        continue;
      }
      for (std::string& cut : stage.splitter->split(piece)) next.push_back(std::move(cut));
    }
    pieces.swap(next);
  }
  return pieces;
}

// SentencePiece-style BPE over one piece: characters (or their <0xNN> bytes, or unk), then the
// lowest-ranked adjacent pair merged, leftmost first, until none is left (Word::merge_all's queue).
void HfTokenizer::encode_fallback_piece(const std::string& piece, std::vector<int>& ids) const {
  std::vector<int> symbols;
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(piece.data());
  bool last_unk = false;
  for (std::size_t i = 0; i < piece.size();) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + i, utf8proc_ssize_t(piece.size() - i), &code_point);
    const std::size_t len = n > 0 ? std::size_t(n) : 1;  // the text was checked: n > 0
    const std::string ch = piece.substr(i, len);
    i += len;
    auto it = ids_.find(ch);
    if (it != ids_.end()) {
      symbols.push_back(it->second);
      last_unk = false;
      continue;
    }
    if (std::all_of(ch.begin(), ch.end(), [&](char b) { return byte_ids_[static_cast<unsigned char>(b)] >= 0; })) {
      for (char b : ch) symbols.push_back(byte_ids_[static_cast<unsigned char>(b)]);
      last_unk = false;
      continue;
    }
    if (unk_id_ < 0) throw DataError("the vocabulary has no token for '" + ch + "', no byte tokens for it and no unk_token");
    if (!(fuse_unk_ && last_unk)) symbols.push_back(unk_id_);
    last_unk = true;
  }
  // Linked symbols; the queue holds candidate pairs (rank, left index), stale ones skipped on pop.
  const int n = int(symbols.size());
  std::vector<int> next(static_cast<std::size_t>(n)), prev(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    next[std::size_t(i)] = i + 1 < n ? i + 1 : -1;
    prev[std::size_t(i)] = i - 1;
  }
  using Candidate = std::pair<std::pair<int, int>, std::pair<int, int>>;  // ((rank, left), (right id, left id))
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push = [&](int left) {
    const int right = left >= 0 ? next[std::size_t(left)] : -1;
    if (left < 0 || right < 0) return;
    auto it = id_merges_.find(pair_key(symbols[std::size_t(left)], symbols[std::size_t(right)]));
    if (it != id_merges_.end()) queue.push({{it->second.first, left}, {symbols[std::size_t(right)], symbols[std::size_t(left)]}});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int left = c.first.second, right = next[std::size_t(left)];
    if (symbols[std::size_t(left)] < 0 || right < 0 || symbols[std::size_t(left)] != c.second.second ||
        symbols[std::size_t(right)] != c.second.first)
      continue;  // one side merged since
    symbols[std::size_t(left)] = id_merges_.at(pair_key(c.second.second, c.second.first)).second;
    symbols[std::size_t(right)] = -1;
    next[std::size_t(left)] = next[std::size_t(right)];
    if (next[std::size_t(left)] >= 0) prev[std::size_t(next[std::size_t(left)])] = left;
    push(prev[std::size_t(left)]);
    push(left);
  }
  for (int id : symbols)
    if (id >= 0) ids.push_back(id);
}

void HfTokenizer::encode_plain(const std::string& text, std::vector<int>& ids) const {
  if (byte_fallback_) {
    std::string normalized = nfc_ ? nfc(text) : text;
    for (const auto& [from, to] : replacements_) replace_all(normalized, from, to);
    for (const std::string& piece : pre_tokenize(normalized)) encode_fallback_piece(piece, ids);
    return;
  }
  for (const std::string& piece : pre_tokenize(nfc_ ? nfc(text) : text)) {
    if (ignore_merges_) {  // Llama 3: a piece that is a whole token is not cut up by the merges
      auto whole = ids_.find(stand_in_spelling(piece));
      if (whole != ids_.end()) {
        ids.push_back(whole->second);
        continue;
      }
    }
    for (const std::string& symbol : merge_bytes(piece, ranks_)) {
      auto it = ids_.find(symbol);
      if (it == ids_.end())
        throw DataError("the vocabulary has no token '" + symbol + "' (needed for '" + piece + "')");
      ids.push_back(it->second);
    }
  }
}

std::vector<int> HfTokenizer::encode(const std::string& text) const {
  check_utf8(text);
  std::vector<int> ids;
  std::size_t plain_start = 0;  // text[plain_start, i) holds no added token
  for (std::size_t i = 0; i < text.size();) {
    const HfTokenizerSpec::AddedToken* found = nullptr;
    for (int k : added_by_byte_[static_cast<unsigned char>(text[i])]) {
      if (text.compare(i, added_[k].content.size(), added_[k].content) == 0) {
        found = &added_[k];  // the longest, as added_ is sorted longest first
        break;
      }
    }
    if (!found) {
      ++i;
      continue;
    }
    if (i > plain_start) encode_plain(text.substr(plain_start, i - plain_start), ids);
    ids.push_back(found->id);
    i += found->content.size();
    plain_start = i;
  }
  if (plain_start < text.size()) encode_plain(text.substr(plain_start), ids);
  return ids;
}

std::vector<int> HfTokenizer::encode_prompt(const std::string& text) const {
  std::vector<int> ids = encode(text);
  if (const std::optional<int> bos = bos_id()) ids.insert(ids.begin(), *bos);
  return ids;
}

std::vector<int> HfTokenizer::encode_with_special(const std::string& text) const {
  std::vector<int> ids = prefix_ids_;
  const std::vector<int> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

std::optional<int> HfTokenizer::bos_id() const {
  if (prefix_ids_.empty()) return std::nullopt;
  return prefix_ids_.front();
}

std::string HfTokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size() || !defined_[id])
      text += "<" + std::to_string(id) + ">";
    else
      text += token_bytes_[id];
  }
  return text;
}

std::string HfTokenizer::token_text(int id) const {
  if (id < 0 || id >= vocab_size() || !defined_[id]) return "<" + std::to_string(id) + ">";
  const std::string& bytes = token_bytes_[id];
  std::string shown;
  const auto* data = reinterpret_cast<const utf8proc_uint8_t*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size();) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(data + i, utf8proc_ssize_t(bytes.size() - i), &code_point);
    if (n > 0) {
      shown.append(bytes, i, std::size_t(n));
      i += std::size_t(n);
      continue;
    }
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char b = static_cast<unsigned char>(bytes[i++]);
    shown += std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";  // half a character: Llama's byte notation
  }
  return shown;
}

}  // namespace kvscope
