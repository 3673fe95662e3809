// Charts over the steps shown: cumulative K/V rows computed (quadratic without a cache, linear with
// one) and the cache's memory per step (2 x layers x KV heads x head dim x t x 4 bytes; beside it, for
// GQA / MQA, the same model as MHA). Points are trace fields.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/lessons/cache_calculator.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

// The chart that shows bytes names the one byte convention on screen (core/lessons/caption.h).
const char* const kMemoryTitle = "Cache memory (1 kB = 1,000 B)";

struct Series {
  std::string name;
  ImU32 color;
  std::vector<double> y;
  bool square_marks;  // told apart by mark shape as well as colour
};

// size.y is at least three lines: a shorter plot puts its top label and its "0" on the lines.
void draw_chart(PanelContext& c, const char* title, const std::vector<Series>& series, ImVec2 size,
                std::string (*format)(double)) {
  size.y = std::max(size.y, line_height() * 3.0f);
  drawn::figure("unit", 1000, "1 kB = 1,000 B");  // the memory chart's title names the convention
  drawn::TextUnformatted(title);
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  double y_max = 0.0;
  std::size_t n = 0;
  for (const Series& s : series) {
    for (double v : s.y) y_max = std::max(y_max, v);
    n = std::max(n, s.y.size());
  }
  if (y_max <= 0.0) y_max = 1.0;  // all zero (full attention's divergence): a flat line at the bottom
  const std::string top = format(y_max);
  const float axis_x = p.x + ImGui::CalcTextSize(top.c_str()).x + 6;
  const ImVec2 a(axis_x, p.y + th * 0.5f), b(p.x + size.x - 4, p.y + size.y - th * 1.2f);
  c.record->add_rect("chart_plots", {a.x, a.y, b.x, b.y});
  drawn::AddText(dl, ImVec2(p.x, a.y - th * 0.5f), c.pal->text_muted, drawn::figure("axis_tick", y_max, top));
  drawn::AddText(dl, ImVec2(axis_x - ImGui::CalcTextSize("0").x - 6, b.y - th * 0.5f), c.pal->text_muted,
                 drawn::figure("axis_tick", 0, "0"));
  dl->AddLine(ImVec2(a.x, b.y), b, c.pal->border);
  dl->AddLine(a, ImVec2(a.x, b.y), c.pal->border);
  const std::size_t x_max = std::max<std::size_t>(n, 2) - 1;
  char steps[32];
  std::snprintf(steps, sizeof steps, "%s", drawn::figure("axis_tick", double(x_max), "step " + std::to_string(x_max)).c_str());
  if (n > 1) drawn::AddText(dl, ImVec2(b.x - ImGui::CalcTextSize(steps).x, b.y + 2), c.pal->text_muted, steps);
  drawn::AddText(dl, ImVec2(a.x, b.y + 2), c.pal->text_muted, drawn::figure("axis_tick", 0, "step 0"));
  auto point = [&](std::size_t i, double v) {
    return ImVec2(a.x + (b.x - a.x) * float(i) / float(x_max), b.y - (b.y - a.y) * float(v / y_max));
  };
  const float r = std::max(3.0f, th * 0.22f);
  // One polyline per series; its marks (the shape that tells the series apart without colour) on at
  // most about 16 steps and always the last, so a long run stays legible and light to draw.
  const std::size_t mark_every = std::max<std::size_t>(1, (n + 15) / 16);
  std::vector<ImVec2> line;
  for (const Series& s : series) {
    line.clear();
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const ImVec2 q = point(i, s.y[i]);
      // Past one step per 3 pixel columns (the line's width), the last point in them stands for them.
      if (line.size() > 1 && i + 1 < s.y.size() && std::floor(q.x / 3.0f) == std::floor(line.back().x / 3.0f))
        line.back() = q;
      else
        line.push_back(q);
    }
    // A whole-pixel width: ImGui draws it anti-aliased from its line texture, two triangles a segment.
    dl->AddPolyline(line.data(), int(line.size()), s.color, ImDrawFlags_None, 3.0f);
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      if (i % mark_every != 0 && i + 1 != s.y.size()) continue;
      const ImVec2 q = point(i, s.y[i]);
      if (s.square_marks)
        dl->AddRectFilled(ImVec2(q.x - r, q.y - r), ImVec2(q.x + r, q.y + r), s.color);
      else
        dl->AddCircleFilled(q, r, s.color, 8);  // an octagon at this size reads as a dot: 22 triangles, not 34
    }
  }
  ImGui::Dummy(size);
}

void legend_item(const Series& s, const PanelContext& c) {
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 m(p.x + th * 0.5f, p.y + th * 0.5f);
  dl->AddLine(ImVec2(p.x, m.y), ImVec2(p.x + th, m.y), s.color, 3.0f);
  if (s.square_marks)
    dl->AddRectFilled(ImVec2(m.x - 4, m.y - 4), ImVec2(m.x + 4, m.y + 4), s.color);
  else
    dl->AddCircleFilled(m, 4.5f, s.color);
  ImGui::Dummy(ImVec2(th, th));
  ImGui::SameLine();
  drawn::TextUnformatted(drawn::figure("series_name", 0, s.name));  // a policy's name may hold digits
  (void)c;
}

std::string count_label(double n) { return format_count(std::int64_t(n)); }
std::string seconds_label(double s) { return format_seconds(s); }
std::string bytes_label(double n) { return format_bytes(std::int64_t(n)); }
std::string kl_label(double nats) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", nats);
  return buf;
}

}  // namespace

void draw_chart_panel(PanelContext& c, float height) {
  const drawn::PanelScope scope(c.record, "chart");
  ImGui::Separator();
  if (c.history->empty()) {
    drawn::TextWrapped("Charts of rows computed and cache memory appear as you step.");
    return;
  }
  Series uncached{"without cache", c.pal->series_uncached, {}, false};
  Series cached{"with cache", c.pal->series_cached, {}, true};
  Series memory{"cache bytes", c.pal->series_memory, {}, true};
  // GQA / MQA: the same model as MHA (a K/V head per query head), drawn as a second line.
  Series as_mha{"as " + as_mha_label(*c.config), c.pal->text_muted, {}, false};
  const bool shared_heads = c.config->kv_heads() < c.config->n_head;
  // Under a cache policy: its bytes beside the full cache's, and its divergence from full attention.
  const bool policy = c.history->back().cached.policy.active;
  Series full_cache{"full cache", c.pal->text_muted, {}, false};
  Series kl{c.history->back().cached.policy.spec, c.pal->series_cached, {}, true};
  // The compared policy's divergence on the same steps: the lesson's point is the gap between the two.
  const bool compared = policy && c.compared_history && c.compared_history->size() == c.history->size();
  Series kl_compared{compared ? c.compared_history->back().cached.policy.spec : "", c.pal->series_uncached, {}, false};
  if (policy) {
    memory.name = "policy cache";
    for (const StepTrace& t : *c.history) {
      memory.y.push_back(double(t.cached.policy.cache_bytes));
      full_cache.y.push_back(double(t.cached.policy.full_cache_bytes));
      kl.y.push_back(t.cached.policy.kl_from_full);
    }
    if (compared)
      for (const StepTrace& t : *c.compared_history) kl_compared.y.push_back(t.cached.policy.kl_from_full);
  }
  for (const StepTrace& t : *c.history) {
    uncached.y.push_back(double(t.uncached.total_rows_computed));
    cached.y.push_back(double(t.cached.total_rows_computed));
    if (!policy) memory.y.push_back(double(t.cached.cache_bytes));
    if (shared_heads) as_mha.y.push_back(double(cache_bytes_as_mha(*c.config, t)));
  }
  const float lh = line_height();
  const float w = ImGui::GetContentRegionAvail().x;
  // Two charts when both fit with a readable plot (3 lines each, titles and legends); else only the one
  // the lesson is about, so none is cut at the bottom: a policy's divergence, a cache-size lesson's
  // bytes, else the rows computed (quadratic without a cache, linear with one).
  const bool both = height >= lh * 10.5f;
  if (policy) {  // bytes, and the price paid for them
    const float h = both ? (height - lh * 6.5f) * 0.5f : height - lh * 3.5f;
    if (both) {
      draw_chart(c, kMemoryTitle, {full_cache, memory}, ImVec2(w, h), bytes_label);
      legend_item(memory, c);
      ImGui::SameLine(0, lh);
      legend_item(full_cache, c);
    }
    std::vector<Series> divergence = {kl};
    if (compared) divergence.push_back(kl_compared);
    draw_chart(c, "Divergence from full attention (nats)", divergence, ImVec2(w, h), kl_label);
    legend_item(kl, c);
    if (compared) {  // beside it when both names fit the sidebar's width, else under it
      const float need = ImGui::CalcTextSize(kl_compared.name.c_str()).x + lh * 2.0f;
      if (ImGui::GetContentRegionAvail().x - ImGui::GetItemRectMax().x + ImGui::GetWindowPos().x > need) ImGui::SameLine(0, lh);
      legend_item(kl_compared, c);
    }
    return;
  }
  const float chart_h = both ? (height - lh * 4.5f) * 0.5f : height - lh * 2.5f;
  if (!both && c.lesson->kind == LessonKind::CacheSize) {
    draw_chart(c, kMemoryTitle, {memory}, ImVec2(w, chart_h), bytes_label);
    return;
  }
  // Long contexts: the time each step took, measured, in place of the rows (a step's rows are known; its
  // time is what the cache buys there).
  const bool long_context = c.trace && attention_pooled(*c.trace);
  if (long_context) {
    uncached.y.clear();
    cached.y.clear();
    for (const StepTrace& t : *c.history) {
      uncached.y.push_back(t.uncached.ran ? t.uncached.seconds : 0.0);
      cached.y.push_back(t.cached.ran ? t.cached.seconds : 0.0);
    }
  }
  draw_chart(c, long_context ? "Time per step (measured)" : "K/V rows computed, cumulative", {uncached, cached},
             ImVec2(w, chart_h), long_context ? seconds_label : count_label);
  legend_item(uncached, c);
  ImGui::SameLine(0, lh);
  legend_item(cached, c);
  if (!both) return;
  if (!shared_heads) {
    draw_chart(c, kMemoryTitle, {memory}, ImVec2(w, chart_h), bytes_label);
    return;
  }
  draw_chart(c, kMemoryTitle, {memory, as_mha}, ImVec2(w, chart_h - lh), bytes_label);  // its legend's line
  memory.name = "this model";
  legend_item(memory, c);
  ImGui::SameLine(0, lh);
  legend_item(as_mha, c);
}

}  // namespace kvscope::gui
