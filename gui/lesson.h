#pragma once
// Lesson: a classroom scenario from examples/lessons/*.json — prompt, teacher-forced continuation,
// a teacher's note per step and the layer/head/window to start on. The default is built in.
//   {"title": "...", "prompt": "Time", "continuation": "flies fast", "preset": "demo",
//    "layer": 0, "head": 0, "window": 0, "steps": [{"caption": "...", "note": "..."}, ...]}
#include <string>
#include <vector>

namespace kvscope::gui {

struct LessonStep {
  std::string caption;  // replaces nothing: shown under the caption written from the trace
  std::string note;     // the teacher's note for this step
};

struct Lesson {
  std::string title;
  std::string summary;
  std::string preset;        // model the lesson was written for ("" = any)
  std::string prompt;        // text, or token ids ("464 3862") for a model without a vocabulary
  std::string continuation;  // teacher-forced; empty = the model's own choices
  int layer = 0, head = 0, window = 0;
  std::vector<LessonStep> steps;
  std::string source;        // file path, or "built-in"
};

// Throws DataError naming the source and the field that is wrong.
Lesson parse_lesson(const std::string& json_text, const std::string& source);
Lesson load_lesson_file(const std::string& path);
Lesson default_lesson();  // examples/lessons/time_flies_fast.json, compiled in

}  // namespace kvscope::gui
