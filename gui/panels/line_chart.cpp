#include "gui/panels/line_chart.h"

#include <algorithm>
#include <cmath>

namespace kvscope::gui {

void draw_mark(ImDrawList* dl, ImVec2 q, float r, MarkShape shape, ImU32 color) {
  switch (shape) {
    case MarkShape::Circle: dl->AddCircleFilled(q, r, color, 8); return;  // an octagon at this size reads as a dot
    case MarkShape::Square: dl->AddRectFilled(ImVec2(q.x - r, q.y - r), ImVec2(q.x + r, q.y + r), color); return;
    case MarkShape::TriangleUp:
      dl->AddTriangleFilled(ImVec2(q.x, q.y - r * 1.25f), ImVec2(q.x + r * 1.2f, q.y + r), ImVec2(q.x - r * 1.2f, q.y + r), color);
      return;
    case MarkShape::TriangleDown:
      dl->AddTriangleFilled(ImVec2(q.x - r * 1.2f, q.y - r), ImVec2(q.x + r * 1.2f, q.y - r), ImVec2(q.x, q.y + r * 1.25f), color);
      return;
    case MarkShape::Diamond:
      dl->AddQuadFilled(ImVec2(q.x, q.y - r * 1.35f), ImVec2(q.x + r * 1.35f, q.y), ImVec2(q.x, q.y + r * 1.35f),
                        ImVec2(q.x - r * 1.35f, q.y), color);
      return;
    case MarkShape::Cross:
      dl->AddLine(ImVec2(q.x - r, q.y - r), ImVec2(q.x + r, q.y + r), color, std::max(2.5f, r * 0.6f));
      dl->AddLine(ImVec2(q.x - r, q.y + r), ImVec2(q.x + r, q.y - r), color, std::max(2.5f, r * 0.6f));
      return;
  }
}

void draw_line_chart(PanelContext& c, const char* title, const std::vector<ChartSeries>& series, ImVec2 size,
                     std::string (*y_label)(double), const std::vector<double>& x, std::string (*x_label)(double),
                     double x_end) {
  size.y = std::max(size.y, line_height() * 3.0f);
  drawn::TextUnformatted(title);
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  double y_max = 0.0;
  std::size_t n = 0;
  for (const ChartSeries& s : series) {
    for (double v : s.y) y_max = std::max(y_max, v);
    n = std::max(n, s.y.size());
  }
  if (y_max <= 0.0) y_max = 1.0;  // all zero (full attention's divergence): a flat line at the bottom
  const std::string top = y_label(y_max);
  const float axis_x = p.x + ImGui::CalcTextSize(top.c_str()).x + 6;
  const ImVec2 a(axis_x, p.y + th * 0.5f), b(p.x + size.x - 4, p.y + size.y - th * 1.2f);
  c.record->add_rect("chart_plots", {a.x, a.y, b.x, b.y});
  drawn::AddText(dl, ImVec2(p.x, a.y - th * 0.5f), c.pal->text_muted, drawn::figure("axis_tick", y_max, top));
  drawn::AddText(dl, ImVec2(axis_x - ImGui::CalcTextSize("0").x - 6, b.y - th * 0.5f), c.pal->text_muted,
                 drawn::figure("axis_tick", 0, "0"));
  dl->AddLine(ImVec2(a.x, b.y), b, c.pal->border);
  dl->AddLine(a, ImVec2(a.x, b.y), c.pal->border);
  const bool by_step = x.empty();
  const double x_max = by_step ? double(std::max<std::size_t>(n, 2) - 1)
                                : std::max({1.0, x_end, *std::max_element(x.begin(), x.end())});
  const std::string last = by_step ? "step " + std::to_string(std::size_t(x_max)) : x_label(x_max);
  const std::string origin = by_step ? "step 0" : x_label(0);
  if (!by_step || n > 1)
    drawn::AddText(dl, ImVec2(b.x - ImGui::CalcTextSize(last.c_str()).x, b.y + 2), c.pal->text_muted,
                   drawn::figure("axis_tick", x_max, last));
  drawn::AddText(dl, ImVec2(a.x, b.y + 2), c.pal->text_muted, drawn::figure("axis_tick", 0, origin));
  auto point = [&](std::size_t i, double v) {
    const double at = by_step ? double(i) : x[i];
    return ImVec2(a.x + (b.x - a.x) * float(at / x_max), b.y - (b.y - a.y) * float(v / y_max));
  };
  const float r = std::max(3.0f, th * 0.22f);
  // One polyline per series; its marks on at most about 16 points and always the last, so a long run
  // stays legible and light to draw.
  const std::size_t mark_every = std::max<std::size_t>(1, (n + 15) / 16);
  std::vector<ImVec2> line;
  for (const ChartSeries& s : series) {
    line.clear();
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const ImVec2 q = point(i, s.y[i]);
      // Past one point per 3 pixel columns (the line's width), the last point in them stands for them.
      if (line.size() > 1 && i + 1 < s.y.size() && std::floor(q.x / 3.0f) == std::floor(line.back().x / 3.0f))
        line.back() = q;
      else
        line.push_back(q);
    }
    // A whole-pixel width: ImGui draws it anti-aliased from its line texture, two triangles a segment.
    dl->AddPolyline(line.data(), int(line.size()), s.color, ImDrawFlags_None, 3.0f);
    for (std::size_t i = 0; i < s.y.size(); ++i)
      if (i % mark_every == 0 || i + 1 == s.y.size()) draw_mark(dl, point(i, s.y[i]), r, s.mark, s.color);
  }
  ImGui::Dummy(size);
}

void draw_chart_legend_item(PanelContext& c, const ChartSeries& s) {
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 m(p.x + th * 0.5f, p.y + th * 0.5f);
  dl->AddLine(ImVec2(p.x, m.y), ImVec2(p.x + th, m.y), s.color, 3.0f);
  draw_mark(dl, m, 4.5f, s.mark, s.color);
  ImGui::Dummy(ImVec2(th, th));
  ImGui::SameLine();
  drawn::TextUnformatted(drawn::figure("series_name", 0, s.name, s.context));  // a policy's name may hold digits
  (void)c;
}

}  // namespace kvscope::gui
