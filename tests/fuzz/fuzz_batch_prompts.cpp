// Any bytes as a kvscope-cli batch prompts file: parsed, encoded on the built-in demo model and run
// as a batch over a small paged pool (block size and pool size from the first two bytes) to the end,
// or a DataError / UsageError. Never a crash, and when it ends every block is free again.
#include <cstdlib>

#include "core/engine/session/batch_session.h"
#include "core/engine/kernels/error.h"
#include "core/formats/model_source.h"
#include "core/formats/prompts_file.h"
#include "core/lessons/lesson_run.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvscope::LoadedModel demo = kvscope::load_preset("demo");
  if (size < 2) return 0;
  const int block_size = 1 + data[0] % 8, pool_blocks = 1 + data[1] % 64;
  const std::string path = fuzz::write_scratch("prompts.txt", data + 2, size - 2);
  try {
    kvscope::BatchOptions options;
    options.block_size = block_size;
    options.pool_blocks = pool_blocks;
    kvscope::BatchSession batch(demo.model, options);
    for (const kvscope::PromptLine& line : kvscope::load_prompts_file(path)) {
      if (batch.n_sequences() == 4) break;
      batch.add_sequence(kvscope::encode_text(*demo.tokenizer, line.text, "line", kvscope::TextRole::Prompt), 3);
    }
    while (batch.can_step()) batch.step();
    if (batch.pool().blocks_free() != batch.pool().n_blocks()) std::abort();  // a leaked block
  } catch (const kvscope::DataError&) {
  } catch (const kvscope::UsageError&) {
  }
  return 0;
}
