#pragma once
// Files compiled into the binary at build time (see gui/CMakeLists.txt), so kvscope runs from any
// directory: the heatmap shaders and the default lesson.
namespace kvscope::gui::embedded {
extern const char* const heatmap_vert;    // shaders/heatmap.vert
extern const char* const heatmap_frag;    // shaders/heatmap.frag
extern const char* const default_lesson;  // examples/lessons/time_flies_fast.json
}  // namespace kvscope::gui::embedded
