// Any bytes as config.json: a validated ModelConfig or a DataError, never a crash.
#include "core/engine/error.h"
#include "core/formats/hf_config.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_scratch("config.json", data, size);
  try {
    const kvscope::ModelConfig config = kvscope::read_hf_config(path);
    if (config.d_model % config.n_head != 0) std::abort();  // validation let a bad shape through
  } catch (const kvscope::DataError&) {
  } catch (const kvscope::UsageError&) {
  }
  return 0;
}
