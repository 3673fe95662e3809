#pragma once
// The heatmap shaders (shaders/*), compiled into the binary by kvscope_embed (gui/CMakeLists.txt) so
// kvscope runs from any directory.
#include <vector>

#include "core/engine/kernels/embedded_file.h"

namespace kvscope {
const std::vector<EmbeddedFile>& embedded_shaders();  // heatmap.vert, heatmap.frag
}  // namespace kvscope
