// Charts over the steps shown: cumulative K/V rows computed (quadratic without a cache, linear with
// one) and the cache's memory per step (2 x layers x KV heads x head dim x t x 4 bytes; beside it, for
// GQA / MQA, the same model as MHA). Points are trace fields.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/lessons/cache_calculator.h"
#include "gui/panels/line_chart.h"

namespace kvscope::gui {

namespace {

// The chart that shows bytes names the one byte convention on screen (core/lessons/caption.h).
const char* const kMemoryTitle = "Cache memory (1 kB = 1,000 B)";

void draw_chart(PanelContext& c, const char* title, const std::vector<ChartSeries>& series, ImVec2 size,
                std::string (*format)(double)) {
  drawn::figure("unit", 1000, "1 kB = 1,000 B");  // the memory chart's title names the convention
  draw_line_chart(c, title, series, size, format);
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
  ChartSeries uncached{"without cache", c.pal->series_uncached, {}, MarkShape::Circle};
  ChartSeries cached{"with cache", c.pal->series_cached, {}, MarkShape::Square};
  ChartSeries memory{"cache bytes", c.pal->series_memory, {}, MarkShape::Square};
  // GQA / MQA: the same model as MHA (a K/V head per query head), drawn as a second line.
  ChartSeries as_mha{"as " + as_mha_label(*c.config), c.pal->text_muted, {}, MarkShape::Circle};
  const bool shared_heads = c.config->kv_heads() < c.config->n_head;
  // Under a cache policy: its bytes beside the full cache's, and its divergence from full attention.
  const bool policy = c.history->back().cached.policy.active;
  ChartSeries full_cache{"full cache", c.pal->text_muted, {}, MarkShape::Circle};
  ChartSeries kl{c.history->back().cached.policy.spec, c.pal->series_cached, {}, MarkShape::Square};
  // The compared policy's divergence on the same steps: the lesson's point is the gap between the two.
  const bool compared = policy && c.compared_history && c.compared_history->size() == c.history->size();
  ChartSeries kl_compared{compared ? c.compared_history->back().cached.policy.spec : "", c.pal->series_uncached, {}, MarkShape::Circle};
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
      draw_chart_legend_item(c, memory);
      ImGui::SameLine(0, lh);
      draw_chart_legend_item(c, full_cache);
    }
    std::vector<ChartSeries> divergence = {kl};
    if (compared) divergence.push_back(kl_compared);
    draw_chart(c, "Divergence from full attention (nats)", divergence, ImVec2(w, h), kl_label);
    draw_chart_legend_item(c, kl);
    if (compared) {  // beside it when both names fit the sidebar's width, else under it
      const float need = ImGui::CalcTextSize(kl_compared.name.c_str()).x + lh * 2.0f;
      if (ImGui::GetContentRegionAvail().x - ImGui::GetItemRectMax().x + ImGui::GetWindowPos().x > need) ImGui::SameLine(0, lh);
      draw_chart_legend_item(c, kl_compared);
    }
    return;
  }
  const float chart_h = both ? (height - lh * 4.5f) * 0.5f : height - lh * 2.5f;
  // The memory wall times its steps untraced in its own view; the traced times would be a second, different
  // time for the same step here, so its sidebar charts the bytes alone.
  const bool memory_only = c.lesson->kind == LessonKind::MemoryWall || (!both && c.lesson->kind == LessonKind::CacheSize);
  if (memory_only) {
    draw_chart(c, kMemoryTitle, {memory}, ImVec2(w, height - lh * 2.5f), bytes_label);
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
  draw_chart(c, long_context ? "Time per step, traced (measured)" : "K/V rows computed, cumulative", {uncached, cached},
             ImVec2(w, chart_h), long_context ? seconds_label : count_label);
  draw_chart_legend_item(c, uncached);
  ImGui::SameLine(0, lh);
  draw_chart_legend_item(c, cached);
  if (!both) return;
  if (!shared_heads) {
    draw_chart(c, kMemoryTitle, {memory}, ImVec2(w, chart_h), bytes_label);
    return;
  }
  draw_chart(c, kMemoryTitle, {memory, as_mha}, ImVec2(w, chart_h - lh), bytes_label);  // its legend's line
  memory.name = "this model";
  draw_chart_legend_item(c, memory);
  ImGui::SameLine(0, lh);
  draw_chart_legend_item(c, as_mha);
}

}  // namespace kvscope::gui
