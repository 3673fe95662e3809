#pragma once
// Byte-level BPE training: learns merges from a corpus and writes them as a Hugging Face
// tokenizer.json that HfTokenizer (and @huggingface/tokenizers) load.
//   1. each line (one sentence per line; blank and '#' lines skipped) loses its special tokens, then
//      is cut into pieces by GPT-2's regex (bytes that are not valid UTF-8 become pieces of their own);
//   2. every piece starts as its bytes: the 256 byte tokens are always in the vocabulary, so any
//      text encodes;
//   3. the most frequent adjacent pair over all pieces is merged into a new token, again and again,
//      until the vocabulary has vocab_size tokens or no pair occurs twice. Ties go to the pair whose
//      (left bytes, right bytes) sort first, so the same corpus gives the same file, byte for byte.
// Ids: special tokens 0..k-1, byte b -> k + b, merge i -> k + 256 + i.
// "aaab aaab ab" -> merges "a"+"a", "a"+"b", "aa"+"ab" (counts 4, 3, 2); then no pair occurs twice.
#include <string>
#include <utility>
#include <vector>

namespace kvscope {

struct BpeTrainOptions {
  int vocab_size = 1024;                     // special tokens + 256 bytes + merges, at most
  std::vector<std::string> special_tokens;   // e.g. "<|endoftext|>"; ids 0.. in this order
};

struct TrainedBpe {
  std::vector<std::string> special_tokens;
  std::vector<std::pair<std::string, std::string>> merges;  // raw bytes of left and right, rank order
  long long corpus_words = 0;   // whitespace-separated words over the lines trained on
  long long corpus_tokens = 0;  // tokens those lines encode to with the merges learned
  int vocab_size() const { return int(special_tokens.size()) + 256 + int(merges.size()); }
};

// Throws UsageError for a vocab_size below 256 + the special tokens, or a special token that is
// shorter than two characters, given twice or not printable ASCII ("<|endoftext|>" is fine, "<a b>"
// is not: the loader reads it as a vocabulary spelling); DataError naming source_name when no line
// has text.
TrainedBpe train_bpe(const std::string& text, const BpeTrainOptions& options, const std::string& source_name);

// train_bpe on a file's text. Throws DataError "PATH: cannot open the corpus file" when unreadable.
TrainedBpe train_bpe_file(const std::string& corpus_path, const BpeTrainOptions& options);

// The tokenizer.json text: model BPE (vocab in id order, merges as ["a", "b"] pairs), pre_tokenizer
// Sequence[Split{GPT-2 regex, Isolated}, ByteLevel{use_regex: false}], decoder ByteLevel.
std::string tokenizer_json(const TrainedBpe& bpe);

// Writes tokenizer_json(bpe) to path through a temporary file beside it, then renamed: path is
// either the whole new file or what it was before. Throws DataError "PATH: cannot write: reason".
void write_tokenizer_json(const std::string& path, const TrainedBpe& bpe);

}  // namespace kvscope
