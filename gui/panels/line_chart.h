#pragma once
// A line chart for the panels: y against the step (the sidebar's charts) or against positions (the
// memory wall), one polyline per series with marks told apart by shape as well as colour, the top and 0
// ticks on y and the first and last x. Every tick and name drawn is declared; the points are the
// caller's (trace fields, lesson measurements), only laid out here.
#include <string>
#include <vector>

#include "gui/panels/panels.h"

namespace kvscope::gui {

enum class MarkShape { Circle, Square, TriangleUp, Diamond, TriangleDown, Cross };

struct ChartSeries {
  std::string name;
  ImU32 color = 0;
  std::vector<double> y;
  MarkShape mark = MarkShape::Circle;
  nlohmann::json context = nlohmann::json::object();  // declared with its name
};

// x empty: point i is step i ("step 0" ... "step N" under the axis). Else point i sits at x[i] on an axis
// from 0 to x_end (at least the largest x), labelled by x_label. size.y is at least three lines.
void draw_line_chart(PanelContext& c, const char* title, const std::vector<ChartSeries>& series, ImVec2 size,
                     std::string (*y_label)(double), const std::vector<double>& x = {},
                     std::string (*x_label)(double) = nullptr, double x_end = 0.0);
// The series' line and mark, then its name.
void draw_chart_legend_item(PanelContext& c, const ChartSeries& s);
void draw_mark(ImDrawList* dl, ImVec2 at, float r, MarkShape shape, ImU32 color);

}  // namespace kvscope::gui
