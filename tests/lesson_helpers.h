#pragma once
// A built-in lesson run to its last step on a loaded model (the lesson tests read every step's report),
// and a report's lines that two runs must print alike.
#include <string>
#include <vector>

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

// Lines without measured times: a memory_wall lesson times its steps in each run, so two runs agree on
// its bytes and closed forms, not on its milliseconds. Every line of the other kinds.
inline std::vector<std::string> reproducible_lines(const kvscope::Lesson& lesson, const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines)
    if (lesson.kind != kvscope::LessonKind::MemoryWall || line.find(" ms") == std::string::npos) out.push_back(line);
  return out;
}

// Whether a test that runs every built-in lesson leaves this one out of a sanitizer build: the memory wall
// grows its sequence to thousands of positions, minutes under ASan; its code runs sanitized in
// tests/test_memory_wall.cpp (hundreds of positions) and in the lesson fuzzer (tests/fuzz/corpus).
inline bool too_long_for_sanitizers(const kvscope::Lesson& lesson) {
#ifdef KVSCOPE_SANITIZED
  return lesson.kind == kvscope::LessonKind::MemoryWall;
#else
  (void)lesson;
  return false;
#endif
}

}  // namespace test
