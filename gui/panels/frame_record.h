#pragma once
// FrameRecord: what one frame drew where, declared by the code that drew it, for the --state-file test
// hook (one sink instead of a struct of rects every panel writes). Idle, every call returning at once,
// unless the App enabled it for --state-file. begin_frame() starts each frame from the empty record,
// so a rect not drawn this frame reads as empty rather than as last frame's.
#include <string>

#include <nlohmann/json.hpp>

#include "gui/views/trace_view.h"

namespace kvscope::gui {

struct ScreenRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

class FrameRecord {
 public:
  void enable() { enabled_ = true; }
  bool enabled() const { return enabled_; }
  void begin_frame();
  // key: r, [x0, y0, x1, y1].
  void rect(const char* key, const ScreenRect& r);
  // key + "_uncached" / "_cached".
  void pane_rect(const char* key, PaneKind pane, const ScreenRect& r);
  // key: [..., r] (a list in draw order), or its element i (the list grown to i + 1 with empty rects).
  void add_rect(const char* key, const ScreenRect& r);
  void rect_at(const char* key, int i, const ScreenRect& r);
  // key: value, or key: [uncached, cached] with this pane's element set.
  void value(const char* key, const nlohmann::json& v);
  void pane_value(const char* key, PaneKind pane, const nlohmann::json& v);
  // The figure ledger ("figures"): a number drawn, declared where it is drawn, with the text showing it
  // and what identifies it ({"layer": 0, "mode": "cached"}, {"model": "loaded"}...).
  void figure(const char* panel, const char* quantity, double value, const std::string& text,
              const nlohmann::json& context = nlohmann::json::object());
  // "texts": a text item drawn this frame, in draw order (gui/panels/drawn_text.h records every one).
  void text(const char* panel, const std::string& text);
  const nlohmann::json& json() const { return json_; }

 private:
  bool enabled_ = false;
  nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace kvscope::gui
