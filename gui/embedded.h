#pragma once
// Files compiled into the binary at build time (see gui/CMakeLists.txt), so kvscope runs from any
// directory: the heatmap shaders. (The lessons are compiled into core: core/lesson.h.)
namespace kvscope::gui::embedded {
extern const char* const heatmap_vert;    // shaders/heatmap.vert
extern const char* const heatmap_frag;    // shaders/heatmap.frag
}  // namespace kvscope::gui::embedded
