// Arbitrary prompt text against the demo vocabulary: ids or a DataError naming the word.
#include "core/error.h"
#include "core/model_source.h"
#include "core/word_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvscope::WordTokenizer tokenizer(kvscope::demo_vocabulary());
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (int id : tokenizer.encode(text))
      if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
  } catch (const kvscope::DataError&) {
  }
  return 0;
}
