#include "core/train/bpe_trainer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"
#include "core/tokenizers/byte_level.h"
#include "core/tokenizers/gpt2_pretokenizer.h"
#include "core/tokenizers/regex_splitter.h"

namespace kvscope {

namespace {

constexpr int kByteTokens = 256;

// Bytes in the valid UTF-8 character at text[i], or 0 when none starts there (RFC 3629: no
// overlong forms, surrogates or code points past U+10FFFF; the same text PCRE2 accepts).
std::size_t utf8_length(const std::string& text, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  const std::size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xc0) != 0x80) return 0;
  const unsigned char c1 = at(i + 1);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
    return 0;
  return n;
}

void check_options(const BpeTrainOptions& options) {
  std::set<std::string> seen;
  for (const std::string& token : options.special_tokens) {
    std::string bytes;
    if (token.size() < 2 || !bytes_of_spelling(token, bytes) || bytes != token)
      throw UsageError("special token '" + token + "' must be two or more printable ASCII characters, no spaces");
    if (!seen.insert(token).second) throw UsageError("special token '" + token + "' is given twice");
  }
  const int least = kByteTokens + int(options.special_tokens.size());
  if (options.vocab_size < least)
    throw UsageError("vocab size " + std::to_string(options.vocab_size) + " is below " + std::to_string(least) +
                     " (256 byte tokens + " + std::to_string(options.special_tokens.size()) + " special tokens)");
}

// Pieces of one line and how often each occurs over the corpus.
struct PieceCounter {
  RegexSplitter splitter{kGpt2Pattern};
  std::vector<std::string> specials;  // longest first, so "<|a|>x" wins over its prefix "<|a|>"
  std::unordered_map<std::string, long long> counts;
  long long special_count = 0, words = 0;

  // Valid UTF-8 runs go through the regex; a byte that starts no character is a piece by itself.
  void add_plain(const std::string& text) {
    std::size_t run = 0;
    for (std::size_t i = 0; i <= text.size();) {
      const std::size_t n = i < text.size() ? utf8_length(text, i) : 0;
      if (n > 0) {
        i += n;
        continue;
      }
      if (i > run)
        for (const std::string& piece : splitter.split(text.substr(run, i - run))) ++counts[piece];
      if (i < text.size()) ++counts[text.substr(i, 1)];
      run = ++i;
    }
  }

  // Special tokens are cut out first, as Hugging Face does with added tokens at encode time.
  void add_line(const std::string& line) {
    std::istringstream words_in(line);
    for (std::string w; words_in >> w;) ++words;
    std::size_t start = 0;
    for (std::size_t i = 0; i < line.size();) {
      const auto found = std::find_if(specials.begin(), specials.end(),
                                      [&](const std::string& s) { return line.compare(i, s.size(), s) == 0; });
      if (found == specials.end()) {
        ++i;
        continue;
      }
      add_plain(line.substr(start, i - start));
      ++special_count;
      start = i += found->size();
    }
    add_plain(line.substr(start));
  }
};

PieceCounter count_pieces(const std::string& text, const BpeTrainOptions& options, const std::string& source_name) {
  PieceCounter counter;
  counter.specials = options.special_tokens;
  std::stable_sort(counter.specials.begin(), counter.specials.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::istringstream lines(text);
  std::string line;
  int line_number = 0;
  bool any = false;
  while (std::getline(lines, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    any = true;
    try {
      counter.add_line(line);
    } catch (const DataError& e) {  // the regex's backtracking limit, on a pathological line
      throw DataError(source_name + ":" + std::to_string(line_number) + ": " + e.what());
    }
  }
  if (!any) throw DataError(source_name + ": the corpus has no text to train on (one sentence per line)");
  return counter;
}

// The merge loop over distinct pieces ("words"), each a list of symbol ids with its count.
class PairMerger {
 public:
  explicit PairMerger(const std::unordered_map<std::string, long long>& counts) {
    for (int b = 0; b < kByteTokens; ++b) bytes_.push_back(std::string(1, char(b)));
    std::map<std::string, long long> sorted(counts.begin(), counts.end());  // a fixed word order
    for (const auto& [piece, count] : sorted) {
      Word word{{}, count};
      for (char c : piece) word.symbols.push_back(static_cast<unsigned char>(c));
      words_.push_back(std::move(word));
    }
    for (int w = 0; w < int(words_.size()); ++w) add_pairs(w, +1);
    for (const auto& [key, count] : pair_counts_) push(key);
  }

  // Merges the best pair; false when no pair occurs twice.
  bool merge_best(std::pair<std::string, std::string>& merged) {
    const std::uint64_t key = pop_best();
    if (key == kNone) return false;
    const int left = int(key >> 32), right = int(key & 0xffffffffu), id = int(bytes_.size());
    merged = {bytes_[left], bytes_[right]};
    bytes_.push_back(bytes_[left] + bytes_[right]);
    std::vector<int> touched = std::move(pair_words_[key]);
    pair_words_.erase(key);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (int w : touched) {
      add_pairs(w, -1);
      std::vector<int>& s = words_[w].symbols;
      std::vector<int> next;
      for (std::size_t i = 0; i < s.size(); ++i) {  // left to right, not overlapping: "a a a" -> "aa a"
        const bool hit = i + 1 < s.size() && s[i] == left && s[i + 1] == right;
        next.push_back(hit ? id : s[i]);
        i += hit;
      }
      s.swap(next);
      add_pairs(w, +1);
    }
    for (std::uint64_t changed : changed_) push(changed);
    changed_.clear();
    return true;
  }

  long long token_count() const {
    long long n = 0;
    for (const Word& w : words_) n += w.count * (long long)w.symbols.size();
    return n;
  }

 private:
  struct Word {
    std::vector<int> symbols;
    long long count;
  };
  struct Candidate {
    long long count;
    std::uint64_t key;  // left id << 32 | right id
  };
  static constexpr std::uint64_t kNone = ~std::uint64_t(0);
  static std::uint64_t key_of(int left, int right) { return std::uint64_t(left) << 32 | std::uint64_t(right); }

  // True when a ranks below b: fewer occurrences, or as many and its byte pair sorts later.
  bool worse(const Candidate& a, const Candidate& b) const {
    if (a.count != b.count) return a.count < b.count;
    const std::string &al = bytes_[a.key >> 32], &bl = bytes_[b.key >> 32];
    if (al != bl) return al > bl;
    return bytes_[a.key & 0xffffffffu] > bytes_[b.key & 0xffffffffu];
  }

  // Counts word w's adjacent pairs sign times; pairs whose count moves are pushed again later.
  void add_pairs(int w, int sign) {
    const Word& word = words_[w];
    for (std::size_t i = 0; i + 1 < word.symbols.size(); ++i) {
      const std::uint64_t key = key_of(word.symbols[i], word.symbols[i + 1]);
      long long& count = pair_counts_[key];
      count += sign * word.count;
      if (sign > 0) pair_words_[key].push_back(w);
      changed_.push_back(key);
    }
  }

  void push(std::uint64_t key) {
    auto it = pair_counts_.find(key);
    if (it == pair_counts_.end()) return;
    if (it->second <= 0) {
      pair_counts_.erase(it);
      return;
    }
    heap_.push_back({it->second, key});
    std::push_heap(heap_.begin(), heap_.end(), [this](const Candidate& a, const Candidate& b) { return worse(a, b); });
  }

  // The heap keeps stale entries; one is current when its count is still the pair's count.
  std::uint64_t pop_best() {
    auto less = [this](const Candidate& a, const Candidate& b) { return worse(a, b); };
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), less);
      const Candidate c = heap_.back();
      heap_.pop_back();
      auto it = pair_counts_.find(c.key);
      if (it == pair_counts_.end() || it->second != c.count) continue;
      return c.count >= 2 ? c.key : kNone;
    }
    return kNone;
  }

  std::vector<std::string> bytes_;  // symbol id -> its bytes: 0..255 the bytes, then merges
  std::vector<Word> words_;
  std::unordered_map<std::uint64_t, long long> pair_counts_;
  std::unordered_map<std::uint64_t, std::vector<int>> pair_words_;  // may list a word twice or stale
  std::vector<std::uint64_t> changed_;
  std::vector<Candidate> heap_;
};

}  // namespace

TrainedBpe train_bpe(const std::string& text, const BpeTrainOptions& options, const std::string& source_name) {
  check_options(options);
  const PieceCounter pieces = count_pieces(text, options, source_name);
  TrainedBpe bpe;
  bpe.special_tokens = options.special_tokens;
  PairMerger merger(pieces.counts);
  std::pair<std::string, std::string> merged;
  while (bpe.vocab_size() < options.vocab_size && merger.merge_best(merged)) bpe.merges.push_back(merged);
  bpe.corpus_words = pieces.words;
  bpe.corpus_tokens = merger.token_count() + pieces.special_count;
  return bpe;
}

TrainedBpe train_bpe_file(const std::string& corpus_path, const BpeTrainOptions& options) {
  check_options(options);  // a bad request is reported before the file is read
  return train_bpe(read_text_file(corpus_path, "the corpus file"), options, corpus_path);
}

std::string tokenizer_json(const TrainedBpe& bpe) {
  using Json = nlohmann::ordered_json;  // keys in the order written: vocab by id
  const int n_special = int(bpe.special_tokens.size());
  Json vocab = Json::object(), added = Json::array(), merges = Json::array();
  for (int i = 0; i < n_special; ++i) {
    vocab[bpe.special_tokens[i]] = i;
    added.push_back({{"id", i}, {"content", bpe.special_tokens[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  for (int b = 0; b < kByteTokens; ++b) vocab[byte_stand_in(static_cast<unsigned char>(b))] = n_special + b;
  for (std::size_t i = 0; i < bpe.merges.size(); ++i) {
    const std::string left = stand_in_spelling(bpe.merges[i].first), right = stand_in_spelling(bpe.merges[i].second);
    const std::string token = left + right;
    // A special token is never learned (it is cut out of the corpus) and merges make new strings.
    if (vocab.contains(token)) throw DataError("BPE training made token '" + token + "' twice");
    vocab[token] = n_special + kByteTokens + int(i);
    merges.push_back(Json::array({left, right}));
  }
  const Json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}};
  Json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", Json::array({{{"type", "Split"}, {"pattern", {{"Regex", kGpt2Pattern}}},
                                                        {"behavior", "Isolated"}, {"invert", false}},
                                                       byte_level})}};
  j["post_processor"] = nullptr;
  j["decoder"] = byte_level;
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                {"ignore_merges", false}, {"vocab", vocab}, {"merges", merges}};
  return j.dump(2) + "\n";
}

void write_tokenizer_json(const std::string& path, const TrainedBpe& bpe) {
  const std::string text = tokenizer_json(bpe);
  auto fail = [&path](int error) { throw DataError(path + ": cannot write: " + std::strerror(error)); };
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) fail(errno);
  std::size_t done = 0;
  int error = 0;
  while (done < text.size() && error == 0) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno != EINTR) error = errno;
    if (n > 0) done += std::size_t(n);
  }
  if (error == 0 && (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp.c_str());
    fail(error);
  }
}

}  // namespace kvscope
