// The memory-wall view of a memory_wall lesson: time per token and cache bytes against positions, one
// line per cache (its own colour and mark shape), measured at each length stepped so far; beside them a
// table at this step's length, also their legend: each cache's time a token, the bytes the engine holds,
// and the calculator's closed form. Every value is the lesson report's (core/lessons/memory_wall.h),
// laid out here.
#include <algorithm>
#include <cstdio>

#include "gui/panels/line_chart.h"

namespace kvscope::gui {

namespace {

constexpr MarkShape kMarks[6] = {MarkShape::Circle,  MarkShape::Square,       MarkShape::TriangleUp,
                                 MarkShape::Diamond, MarkShape::TriangleDown, MarkShape::Cross};

std::string ms_label(double ms) { return format_milliseconds(ms); }
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
  const float lh = line_height(), gap = ImGui::GetFontSize();
  const float w = ImGui::GetContentRegionAvail().x;
  // Right: the table at this step's length, each row with its cache's colour and mark (the charts'
  // legend). Left: the two charts, side by side, as tall as the view.
  auto width_of = [&](const char* a, const char* b) {
    return std::max(ImGui::CalcTextSize(a).x, ImGui::CalcTextSize(b).x) + ImGui::GetStyle().CellPadding.x * 2.0f;
  };
  const float mark_w = ImGui::GetTextLineHeight();
  float name_w = ImGui::CalcTextSize("cache").x;
  for (const WallSeries& s : wall) name_w = std::max(name_w, ImGui::CalcTextSize(s.cache.name.c_str()).x);
  const float col_w[4] = {name_w + mark_w + ImGui::GetStyle().ItemSpacing.x + ImGui::GetStyle().CellPadding.x * 2.0f,
                          width_of("a token", "not timed"), width_of("held (engine)", "000.00 MB"),
                          width_of("closed form", "000.00 MB \xE2\x9C\x93")};
  const float table_w = col_w[0] + col_w[1] + col_w[2] + col_w[3] + 5.0f;  // and the borders
  const float chart_w = std::max(lh * 6.0f, (w - table_w - gap * 2.0f) * 0.5f);
  const float chart_h = std::max(lh * 3.0f, height - lh * 1.5f - ImGui::GetStyle().WindowPadding.y * 2.0f);
  // The axis runs to the lesson's last length from the first step: each step adds its points where they belong.
  const double x_end = c.lesson->lengths.empty() ? 0.0 : double(c.lesson->lengths.back());
  ImGui::BeginGroup();
  draw_line_chart(c, "Time per token (measured)", time, ImVec2(chart_w, chart_h), ms_label, x, positions_label, x_end);
  ImGui::EndGroup();
  ImGui::SameLine(0, gap);
  ImGui::BeginGroup();
  drawn::figure("unit", 1000, "1 kB = 1,000 B");
  draw_line_chart(c, "Cache bytes (1 kB = 1,000 B)", bytes, ImVec2(chart_w, chart_h), bytes_label, x, positions_label, x_end);
  ImGui::EndGroup();
  ImGui::SameLine(0, gap);
  ImGui::BeginGroup();
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit;
  if (ImGui::BeginTable("wall", 4, flags, ImVec2(table_w, 0))) {
    const char* headers[4] = {"cache", "a token", "held (engine)", "closed form"};
    for (int col = 0; col < 4; ++col) ImGui::TableSetupColumn(headers[col], ImGuiTableColumnFlags_WidthFixed, col_w[col] - ImGui::GetStyle().CellPadding.x * 2.0f);
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int col = 0; col < 4; ++col) {
      ImGui::TableSetColumnIndex(col);
      drawn::TextUnformatted(headers[col]);
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
      drawn::TextUnformatted(drawn::figure("cache_bytes", double(p.closed_form_bytes), format_decimal_bytes(double(p.closed_form_bytes)), closed) +
                             (p.closed_form_bytes == p.cache_bytes ? " \xE2\x9C\x93" : ""));
    }
    ImGui::EndTable();
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    c.record->add_rect("memory_wall_table", {a.x, a.y, b.x, b.y});
  }
  // The closed form in words, under the table (kvscope-cli writes out each cache's product).
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + table_w);
  drawn::figure("k_and_v", 2, "2 \xC3\x97");
  drawn::TextWrapped("%s; \xE2\x9C\x93 where it equals the engine's count.", cache_formula_in_words(own_attention_variant(wall.front().shape)).c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndGroup();
}

}  // namespace kvscope::gui
