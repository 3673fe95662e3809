#include "gui/panels/frame_record.h"

namespace kvscope::gui {
namespace {
nlohmann::json rect_json(const ScreenRect& r) { return {r.x0, r.y0, r.x1, r.y1}; }
const char* pane_suffix(PaneKind pane) { return pane == PaneKind::Cached ? "_cached" : "_uncached"; }
}  // namespace

// Every key the window may declare, empty: what a frame that drew none of it reports.
void FrameRecord::begin_frame() {
  if (!enabled_) return;
  const nlohmann::json empty_rect = rect_json(ScreenRect{}), none = nlohmann::json::array();
  json_ = nlohmann::json::object();
  for (const char* key : {"pane", "heatmap", "heatmap_overview"}) {
    json_[std::string(key) + "_uncached"] = empty_rect;
    json_[std::string(key) + "_cached"] = empty_rect;
  }
  for (const char* key : {"caption_box", "lesson_view", "menu_lessons", "menu_models", "menu_open_folder", "prompt_field",
                          "continuation_field", "model_field", "policy_field"})
    json_[key] = empty_rect;
  for (const char* key : {"chart_plots", "calculator_labels", "menu_items", "head_chips", "pool_blocks"}) json_[key] = none;
  json_["newest_k_strip"] = {empty_rect, empty_rect};
  json_["heatmap_cells"] = {{0, 0}, {0, 0}};  // [rows, cols] drawn, uncached then cached
  json_["heatmap_cell_px"] = {0.0, 0.0};
  json_["heatmap_key_px"] = {0.0, 0.0};
  json_["kv_rows_visible"] = {0, 0};
  json_["caption_overflow"] = 0.0;
  json_["figures"] = none;
  json_["texts"] = none;
}

void FrameRecord::figure(const char* panel, const char* quantity, double value, const std::string& text,
                         const nlohmann::json& context) {
  if (!enabled_) return;
  nlohmann::json f = context;
  f["panel"] = panel;
  f["quantity"] = quantity;
  f["value"] = value;
  f["text"] = text;
  json_["figures"].push_back(std::move(f));
}

void FrameRecord::text(const char* panel, const std::string& text) {
  if (enabled_) json_["texts"].push_back({{"panel", panel}, {"text", text}});
}

void FrameRecord::rect(const char* key, const ScreenRect& r) {
  if (enabled_) json_[key] = rect_json(r);
}

void FrameRecord::pane_rect(const char* key, PaneKind pane, const ScreenRect& r) {
  if (enabled_) json_[std::string(key) + pane_suffix(pane)] = rect_json(r);
}

void FrameRecord::add_rect(const char* key, const ScreenRect& r) {
  if (enabled_) json_[key].push_back(rect_json(r));
}

void FrameRecord::rect_at(const char* key, int i, const ScreenRect& r) {
  if (!enabled_ || i < 0) return;
  nlohmann::json& list = json_[key];
  while (int(list.size()) <= i) list.push_back(rect_json(ScreenRect{}));
  list[std::size_t(i)] = rect_json(r);
}

void FrameRecord::value(const char* key, const nlohmann::json& v) {
  if (enabled_) json_[key] = v;
}

void FrameRecord::pane_value(const char* key, PaneKind pane, const nlohmann::json& v) {
  if (!enabled_) return;
  nlohmann::json& pair = json_[key];
  while (pair.size() < 2) pair.push_back(nullptr);
  pair[pane == PaneKind::Cached ? 1 : 0] = v;
}

}  // namespace kvscope::gui
