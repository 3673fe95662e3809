// The memory-wall lesson's lines: at the step's length, what a token cost with each cache, measured, and
// what each cache holds beside the calculator's closed form. Every number is declared as it is written;
// bytes and positions carry {"wall_cache": spec, "positions": n} so a test finds them in numbers.memory_wall.
#include <cstdio>

#include "core/lessons/caption.h"
#include "core/lessons/lesson_report.h"

namespace kvscope {

namespace {

using nlohmann::json;

std::string times_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x < 10 ? "\xC3\x97%.1f" : "\xC3\x97%.0f", x);
  return buf;
}

json point_context(const WallSeries& s, const WallPoint& p) { return {{"wall_cache", s.cache.spec}, {"positions", p.positions}}; }

}  // namespace

void report_memory_wall(const MemoryWall& wall, int step, LessonReport& r) {
  if (step >= wall.measured()) return;
  FigureLog& f = r.figures;
  const WallSeries& full = wall.series().front();
  const WallPoint& p = full.points[std::size_t(step)];
  const WallPoint& first = full.points.front();
  const json ctx = point_context(full, p);
  const std::string positions = f.note("positions", p.positions, format_count(p.positions) + " positions");
  const std::string weights = f.note("weights_bytes", full.weights_bytes, format_decimal_bytes(full.weights_bytes),
                                     {{"wall_cache", full.cache.spec}});
  const double read = full.weights_bytes + double(p.cache_bytes);
  r.lines.push_back(positions + ": each new token reads the " + weights + " of weights and the whole cache, " +
                    f.note("cache_bytes", double(p.cache_bytes), format_decimal_bytes(double(p.cache_bytes)), ctx) + " (" +
                    f.note("cache_share", 100.0 * double(p.cache_bytes) / read,
                           std::to_string(int(100.0 * double(p.cache_bytes) / read + 0.5)) + "%", ctx) +
                    " of the bytes).");
  std::string time = "A token took " + f.note("ms_per_token", p.ms_per_token, format_milliseconds(p.ms_per_token), ctx) +
                     " with the cache (median of " + f.note("timed_tokens", wall.timed_tokens(), std::to_string(wall.timed_tokens())) +
                     " untraced steps)";
  time += " and " + f.note("uncached_ms", p.uncached_ms, format_milliseconds(p.uncached_ms), ctx) +
          " without it (one untraced pass over every position; the panes' times include tracing)";
  if (step > 0 && first.ms_per_token > 0)
    time += "; against " + f.note("positions", first.positions, format_count(first.positions), {{"scope", "first_length"}}) +
            " positions, time " +
            f.note("time_ratio", p.ms_per_token / first.ms_per_token, times_text(p.ms_per_token / first.ms_per_token), ctx) +
            ", bytes read " +
            f.note("bytes_ratio", read / (full.weights_bytes + double(first.cache_bytes)),
                   times_text(read / (full.weights_bytes + double(first.cache_bytes))), ctx);
  r.lines.push_back(time + ".");
  json caches = json::array();
  for (const WallSeries& s : wall.series()) {
    const WallPoint& q = s.points[std::size_t(step)];
    const json c = point_context(s, q);
    if (&s != &full) {
      std::string line = f.note("cache_name", 0, s.cache.name, {{"wall_cache", s.cache.spec}}) + ": " +
                         f.note("cache_bytes", double(q.cache_bytes), format_decimal_bytes(double(q.cache_bytes)), c) + " held";
      if (s.cache.timed())
        line += ", " + f.note("ms_per_token", q.ms_per_token, format_milliseconds(q.ms_per_token), c) + " a token";
      else
        line += "; its time is not charted (kvscope's " +
                std::string(s.cache.kind == WallCacheKind::Latent ? "latent cache rebuilds K and V of every position each step"
                                                                  : "8-bit cache turns every row it reads back into floats") +
                ", as a student would write it)";
      r.details.push_back(line + ".");
    }
    // The closed form beside the engine's count, for the view's table and the CLI.
    json closed = c;
    closed["closed_form"] = true;
    const bool quantized = s.cache.kind == WallCacheKind::Policy && s.cache.policy.quantizes();
    r.details.push_back(f.note("cache_name", 0, s.cache.name, {{"wall_cache", s.cache.spec}}) + ", closed form: " +
                        cache_formula(s.shape, s.variant, q.positions, s.dtype, &f, closed) + "; the engine holds " +
                        f.note("cache_bytes", double(q.cache_bytes), format_decimal_bytes(double(q.cache_bytes)), c) +
                        (quantized ? " (each group's zero and scale, and the key group still filling in fp16, besides the codes)" : "") + ".");
    json points = json::array();
    for (int k = 0; k <= step; ++k) {
      const WallPoint& w = s.points[std::size_t(k)];
      points.push_back({{"positions", w.positions}, {"cache_bytes", w.cache_bytes}, {"closed_form_bytes", w.closed_form_bytes},
                        {"ms_per_token", w.ms_per_token}, {"step_ms", w.step_ms}, {"uncached_ms", w.uncached_ms}});
    }
    caches.push_back({{"spec", s.cache.spec}, {"name", s.cache.name}, {"timed", s.cache.timed()},
                      {"weights_bytes", s.weights_bytes}, {"points", points}});
  }
  for (const WallSeries& s : wall.series()) {
    r.wall.push_back(s);
    r.wall.back().points.resize(std::size_t(step) + 1);
  }
  r.numbers["memory_wall"] = {{"positions", p.positions}, {"timed_tokens", wall.timed_tokens()}, {"caches", caches}};
}

}  // namespace kvscope
