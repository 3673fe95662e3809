#pragma once
// The step's caption is written in core (core/caption.h) so kvscope-cli prints the same words; the
// window uses it under the same names.
#include "core/caption.h"

namespace kvscope::gui {
using kvscope::Caption;
using kvscope::make_caption;
}  // namespace kvscope::gui
