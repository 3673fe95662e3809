#pragma once
// A built-in lesson run to its last step on a loaded model (the lesson tests read every step's report).
#include <string>

#include "core/lessons/lesson_run.h"

namespace test {

inline kvscope::LessonRun run_lesson_to_end(const kvscope::Lesson& lesson, const kvscope::LoadedModel& model) {
  kvscope::LessonRun run(lesson, model);
  for (int s = 0; s < run.lesson_steps(); ++s) run.step();
  return run;
}

inline kvscope::LessonRun run_lesson_to_end(const std::string& name, const kvscope::LoadedModel& model) {
  return run_lesson_to_end(kvscope::builtin_lesson(name), model);
}

}  // namespace test
