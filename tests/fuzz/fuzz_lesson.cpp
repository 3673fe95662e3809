// Any bytes as a lesson file: parsed, then run to its last step on the built-in demo model, or a
// DataError / UsageError. Never a crash, and a lesson that parses runs only the steps it says it can.
#include "core/engine/kernels/error.h"
#include "core/lessons/lesson.h"
#include "core/lessons/lesson_run.h"
#include "core/formats/model_source.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvscope::LoadedModel demo = kvscope::load_preset("demo");
  const std::string path = fuzz::write_scratch("lesson.json", data, size);
  try {
    kvscope::LessonRun run(kvscope::load_lesson_file(path), demo);
    for (int step = 0; step < run.lesson_steps(); ++step) {
      if (!run.can_step()) std::abort();  // check_fits promised these steps fit
      run.step();
    }
  } catch (const kvscope::DataError&) {
  } catch (const kvscope::UsageError&) {
  }
  return 0;
}
