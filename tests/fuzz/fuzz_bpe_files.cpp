// Any bytes as vocab.json + merges.txt (split at the first NUL byte), then an encode/decode round trip.
#include <algorithm>

#include "core/tokenizers/bpe_tokenizer.h"
#include "core/engine/kernels/error.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* split = std::find(data, data + size, std::uint8_t(0));
  const std::size_t vocab_size = std::size_t(split - data);
  const std::string vocab = fuzz::write_scratch("vocab.json", data, vocab_size);
  const std::string merges = fuzz::write_scratch(
      "merges.txt", split == data + size ? data + size : split + 1, split == data + size ? 0 : size - vocab_size - 1);
  try {
    const kvscope::BpeTokenizer tokenizer = kvscope::BpeTokenizer::from_files(vocab, merges);
    for (const char* text : {"Time flies fast", "a  b\n\tc 123 \xc3\xa9t\xc3\xa9 \xe2\x9c\x93"}) {
      try {
        const std::vector<int> ids = tokenizer.encode(text);
        if (tokenizer.decode(ids) != text) std::abort();  // decode must give back the bytes
      } catch (const kvscope::DataError&) {  // a vocabulary without the needed symbols
      }
    }
  } catch (const kvscope::DataError&) {
  }
  return 0;
}
