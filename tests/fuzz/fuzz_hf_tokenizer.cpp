// Any bytes as a tokenizer.json (up to the first NUL byte; what follows is a text to encode), then
// encode: ids stay inside the vocabulary, decode takes them, and every token's text is valid UTF-8
// (kvscope-cli prints it as JSON). Anything wrong with the file must be a DataError.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/engine/kernels/error.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* split = std::find(data, data + size, std::uint8_t(0));
  const std::string path = fuzz::write_scratch("tokenizer.json", data, std::size_t(split - data));
  const std::string fuzzed_text = split == data + size ? "" : std::string(split + 1, data + size);
  try {
    const kvscope::HfTokenizer tokenizer = kvscope::HfTokenizer::from_file(path);
    for (const std::string& text : {std::string("Time flies fast"), std::string("a  b\n\tc 12345 \xc3\xa9t\xc3\xa9 \xe2\x9c\x93"), fuzzed_text}) {
      try {
        const std::vector<int> ids = tokenizer.encode_with_special(text);
        for (int id : ids) {
          if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
          (void)nlohmann::json(tokenizer.token_text(id)).dump();  // throws on invalid UTF-8
        }
        (void)tokenizer.decode(ids);
      } catch (const kvscope::DataError&) {  // invalid UTF-8, or a vocabulary without the needed symbols
      }
    }
  } catch (const kvscope::DataError&) {
  }
  return 0;
}
