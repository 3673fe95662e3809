// The memory-wall view of a memory_wall lesson: time per token and cache bytes against positions, one
// line per cache (its own colour and mark shape), measured at each length stepped so far; then a table
// at this step's length: each cache's time a token, the bytes the engine holds, and the calculator's
// closed form beside them. Every value is the lesson report's (core/lessons/memory_wall.h), laid out here.
#include <algorithm>
#include <cstdio>

#include "gui/panels/line_chart.h"

namespace kvscope::gui {

namespace {

constexpr MarkShape kMarks[6] = {MarkShape::Circle,  MarkShape::Square,       MarkShape::TriangleUp,
                                 MarkShape::Diamond, MarkShape::TriangleDown, MarkShape::Cross};

std::string ms_label(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
  return buf;
}
std::string bytes_label(double n) { return format_decimal_bytes(n); }
std::string positions_label(double n) { return n == 0 ? "0" : format_count(std::int64_t(n)) + " positions"; }

nlohmann::json point_context(const WallSeries& s, const WallPoint& p) {
  return {{"wall_cache", s.cache.spec}, {"positions", p.positions}};
}

}  // namespace

bool memory_wall_view_available(const PanelContext& c) { return c.report && !c.report->wall.empty(); }

void draw_memory_wall_panel(PanelContext& c, float height) {
  const drawn::PanelScope scope(c.record, "memory_wall");
  if (!memory_wall_view_available(c)) {
    drawn::TextWrapped("The memory wall's curves appear as a memory_wall lesson steps.");
    return;
  }
  const std::vector<WallSeries>& wall = c.report->wall;
  std::vector<double> x;
  for (const WallPoint& p : wall.front().points) x.push_back(p.positions);
  std::vector<ChartSeries> time, bytes;
  for (std::size_t i = 0; i < wall.size(); ++i) {
    const WallSeries& s = wall[i];
    ChartSeries line{s.cache.name, c.pal->series_many[i % 6], {}, kMarks[i % 6], {{"wall_cache", s.cache.spec}}};
    for (const WallPoint& p : s.points) line.y.push_back(double(p.cache_bytes));
    bytes.push_back(line);
    if (!s.cache.timed()) continue;
    line.y.clear();
    for (const WallPoint& p : s.points) line.y.push_back(p.ms_per_token);
    time.push_back(line);
  }
  const float lh = line_height();
  const float w = ImGui::GetContentRegionAvail().x, gap = ImGui::GetFontSize();
  // The table (a header and a row per cache), the legend and the titles; the charts take the rest.
  const float row_h = ImGui::GetTextLineHeight() + ImGui::GetStyle().CellPadding.y * 2.0f + 1.0f;
  const float chart_h = std::max(lh * 4.0f, height - row_h * float(wall.size() + 1) - lh * 4.2f);
  // The axis runs to the lesson's last length from the first step: each step adds its points where they belong.
  const double x_end = c.lesson->lengths.empty() ? 0.0 : double(c.lesson->lengths.back());
  const float chart_w = (w - gap) * 0.5f;
  ImGui::BeginGroup();
  draw_line_chart(c, "Time per token, measured (timed caches)", time, ImVec2(chart_w, chart_h), ms_label, x, positions_label, x_end);
  ImGui::EndGroup();
  ImGui::SameLine(0, gap);
  ImGui::BeginGroup();
  drawn::figure("unit", 1000, "1 kB = 1,000 B");
  draw_line_chart(c, "Cache bytes held, measured (1 kB = 1,000 B)", bytes, ImVec2(chart_w, chart_h), bytes_label, x,
                  positions_label, x_end);
  ImGui::EndGroup();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) {  // beside the one before when it fits, else on the next line
      const float need = ImGui::CalcTextSize(bytes[i].name.c_str()).x + lh * 2.0f;
      const float right = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x;
      if (right + need + lh < ImGui::GetWindowContentRegionMax().x) ImGui::SameLine(0, lh);
    }
    draw_chart_legend_item(c, bytes[i]);
  }
  // At this step's length: measured beside the closed form.
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("wall", 4, flags, ImVec2(w, 0))) return;
  auto fixed = [](const char* name, const char* widest) {
    ImGui::TableSetupColumn(name, ImGuiTableColumnFlags_WidthFixed,
                            std::max(ImGui::CalcTextSize(name).x, ImGui::CalcTextSize(widest).x) + ImGui::GetFontSize() * 1.2f);
  };
  fixed("cache", "window:512, sinks:4");
  fixed("a token", "not timed");
  fixed("held (engine)", "000.00 MB");
  ImGui::TableSetupColumn("closed form (the calculator)", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
  for (int col = 0; col < 4; ++col) {
    ImGui::TableSetColumnIndex(col);
    drawn::TextUnformatted(col == 0 ? "cache" : col == 1 ? "a token" : col == 2 ? "held (engine)" : "closed form (the calculator)");
  }
  for (std::size_t i = 0; i < wall.size(); ++i) {
    const WallSeries& s = wall[i];
    const WallPoint& p = s.points.back();
    const nlohmann::json ctx = point_context(s, p);
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float th = ImGui::GetTextLineHeight();
    draw_mark(ImGui::GetWindowDrawList(), ImVec2(at.x + th * 0.4f, at.y + th * 0.5f), std::max(4.0f, th * 0.25f), kMarks[i % 6],
              c.pal->series_many[i % 6]);
    ImGui::Dummy(ImVec2(th * 0.8f, th));
    ImGui::SameLine();
    drawn::TextUnformatted(drawn::figure("cache_name", 0, s.cache.name, {{"wall_cache", s.cache.spec}}));
    ImGui::TableNextColumn();
    drawn::TextUnformatted(s.cache.timed() ? drawn::figure("ms_per_token", p.ms_per_token, ms_label(p.ms_per_token), ctx)
                                           : std::string("not timed"));
    ImGui::TableNextColumn();
    drawn::TextUnformatted(drawn::figure("cache_bytes", double(p.cache_bytes), format_decimal_bytes(double(p.cache_bytes)), ctx));
    ImGui::TableNextColumn();
    nlohmann::json closed = ctx;
    closed["closed_form"] = true;
    FigureLog formula;
    const std::string text = cache_formula(s.shape, s.variant, p.positions, s.dtype, &formula, closed);
    drawn::figures(formula.figures());
    drawn::TextUnformatted(text + (p.closed_form_bytes == p.cache_bytes ? "  \xE2\x9C\x93" : ""));
  }
  ImGui::EndTable();
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  c.record->add_rect("memory_wall_table", {a.x, a.y, b.x, b.y});
}

}  // namespace kvscope::gui
