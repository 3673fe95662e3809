// Arbitrary prompt text against the demo vocabulary: ids or a DataError naming the word.
#include "core/engine/kernels/error.h"
#include "core/formats/model_source.h"


extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvscope::LoadedModel demo = kvscope::load_preset("demo");
  const kvscope::Tokenizer& tokenizer = *demo.tokenizer;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (int id : tokenizer.encode(text))
      if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
  } catch (const kvscope::DataError&) {
  }
  return 0;
}
