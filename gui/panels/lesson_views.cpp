// The views that take the place of the heatmaps under the panes, in one table: the View menu lists it,
// the keys toggle its entries, and the layout asks it whether a view can show and how tall it wants to be.
#include "gui/panels/panels.h"

namespace kvscope::gui {

const std::vector<LessonViewInfo>& lesson_view_table() {
  static const std::vector<LessonViewInfo> table = {
      {LessonView::Calculator, "Cache size calculator", "C", 13.0f},
      {LessonView::Rotation, "Rotary positions: K before and after", "O", 11.0f},
      {LessonView::Heads, "Query heads sharing a KV head", "G", 11.0f},
      {LessonView::Quantized, "Quantized rows: codes, scales, errors", "Q", 9.0f},
      {LessonView::Speculation, "Speculation: draft and target caches", "S", 16.5f},
      {LessonView::MemoryWall, "The memory wall: time and bytes against positions", "W", 17.0f},
  };
  return table;
}

const LessonViewInfo* lesson_view_info(LessonView view) {
  for (const LessonViewInfo& info : lesson_view_table())
    if (info.view == view) return &info;
  return nullptr;
}

bool lesson_view_available(const PanelContext& c, LessonView view) {
  switch (view) {
    case LessonView::Heatmaps: return true;
    case LessonView::Calculator: return true;
    case LessonView::Rotation: return rotation_view_available(c);
    case LessonView::Heads: return query_group_view_available(c);
    case LessonView::Quantized: return quantized_view_available(c);
    case LessonView::Speculation: return speculation_view_available(c);
    case LessonView::MemoryWall: return memory_wall_view_available(c);
  }
  return false;
}

void draw_lesson_view(PanelContext& c, LessonView view, float height) {
  switch (view) {
    case LessonView::Heatmaps: return;
    case LessonView::Calculator: return draw_calculator_panel(c, height);
    case LessonView::Rotation: return draw_rotation_panel(c, height);
    case LessonView::Heads: return draw_query_group_panel(c, height);
    case LessonView::Quantized: return draw_quantized_panel(c, height);
    case LessonView::Speculation: return draw_speculation_panel(c, height);
    case LessonView::MemoryWall: return draw_memory_wall_panel(c, height);
  }
}

}  // namespace kvscope::gui
