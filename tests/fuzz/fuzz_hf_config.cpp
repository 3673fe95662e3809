// Any bytes as config.json (GPT-2 or Llama family): a validated ModelConfig or a DataError, never a crash.
#include "core/engine/error.h"
#include "core/formats/hf_config.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_scratch("config.json", data, size);
  try {
    const kvscope::ModelConfig config = kvscope::read_hf_config(path);
    // Validation let a bad shape through:
    if (config.n_head % config.kv_heads() != 0 || config.d_head() < 1 || config.d_ff() < 1) std::abort();
    if (config.rotary() && config.d_head() % 2 != 0) std::abort();
  } catch (const kvscope::DataError&) {
  } catch (const kvscope::UsageError&) {
  }
  return 0;
}
