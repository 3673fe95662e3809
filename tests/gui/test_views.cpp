// Views derived from traces, captions, lessons and the palette: no display needed.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/engine/kernels/error.h"
#include "core/formats/model_source.h"
#include "core/engine/session/session.h"
#include "gui/views/caption.h"
#include "gui/panels/panels.h"
#include "core/lessons/lesson.h"
#include "gui/draw/theme.h"
#include "gui/views/trace_view.h"

using namespace kvscope;
using namespace kvscope::gui;

namespace {

// The default lesson: "Time", then "flies fast" forced, three steps on the demo model.
std::vector<StepTrace> default_lesson_traces(int window = 0, const std::string& prompt = "Time",
                                             const std::string& forced = "flies fast", int steps = 3) {
  LoadedModel m = load_preset("demo");
  SessionOptions options;
  options.window = window;
  DecodeSession session(m.model, m.tokenizer, options);
  session.start(m.tokenizer->encode(prompt), m.tokenizer->encode(forced));
  for (int i = 0; i < steps; ++i) session.step();
  return session.history();
}

std::vector<RowKind> kinds(const PaneView& pane) {
  std::vector<RowKind> k;
  for (const RowView& r : pane.rows) k.push_back(r.kind);
  return k;
}

}  // namespace

TEST_CASE("uncached pane marks earlier rows recomputed and the fed row new", "[gui][views]") {
  const std::vector<StepTrace> h = default_lesson_traces();
  const PaneView step0 = uncached_pane(h, 0, 0);
  CHECK(kinds(step0) == std::vector<RowKind>{RowKind::NewlyComputed});
  CHECK(step0.redundant_rows == 0);
  const PaneView step2 = uncached_pane(h, 2, 1);
  CHECK(kinds(step2) == std::vector<RowKind>{RowKind::Recomputed, RowKind::Recomputed, RowKind::NewlyComputed});
  CHECK(step2.redundant_rows == 4);  // positions 0-1 in both layers
  CHECK(step2.rows_computed_step == 6);
  CHECK(step2.rows_computed_total == 1 * 2 + 2 * 2 + 3 * 2);  // quadratic
  CHECK(step2.rows_read_newest == 3);
  CHECK(step2.rows_read_all_queries == 1 + 2 + 3);
  REQUIRE(step2.layers.size() == 2);
  CHECK(step2.cache_bytes == 0);
  for (const RowView& r : step2.rows) CHECK(r.key != nullptr);
}

TEST_CASE("cached pane reads old rows back with the values of the step that computed them", "[gui][views]") {
  const std::vector<StepTrace> h = default_lesson_traces();
  const PaneView p = cached_pane(h, 2, 0);
  CHECK(kinds(p) == std::vector<RowKind>{RowKind::ReadFromCache, RowKind::ReadFromCache, RowKind::NewlyComputed});
  CHECK(p.rows[0].computed_at_step == 0);
  CHECK(p.rows[1].computed_at_step == 1);
  CHECK(p.rows[2].computed_at_step == 2);
  CHECK(p.rows_computed_step == 2);  // one row per layer
  CHECK(p.rows_computed_total == 2 + 2 + 2);  // linear
  CHECK(p.rows_read_newest == 3);  // the cache saves projections, not reads
  CHECK(p.cache_bytes == 2LL * 2 * 64 * 3 * 4);
  // The cached row 0 holds the same K values as the uncached recomputation of position 0.
  const PaneView u = uncached_pane(h, 2, 0);
  const int d = 64;
  for (int i = 0; i < d; ++i) CHECK(p.rows[0].key[i] == Approx(u.rows[0].key[i]).margin(1e-5));
  CHECK(p.rows[0].key == h[0].cached.forward.layers[0].keys.row(0).data());
}

TEST_CASE("a sliding window of 4 evicts exactly the position 4 behind the newest", "[gui][views]") {
  const int window = 4;
  // Two prompt positions, then seven decode steps: positions 0..8.
  const std::vector<StepTrace> h = default_lesson_traces(window, "Time flies", "fast when you duck at a time", 8);
  REQUIRE(h.size() == 8);
  for (int step = 0; step < int(h.size()); ++step) {
    const StepTrace& t = h[step];
    const int newest = t.newest_position();
    for (int layer = 0; layer < 2; ++layer) {
      INFO("step " << step << ", newest position " << newest << ", layer " << layer);
      const PaneView p = cached_pane(h, step, layer);
      // The rows listed: the one that left this step (newest - 4, once the window is full), the ones
      // read back, and the new one(s); positions in order.
      std::vector<int> positions;
      std::vector<RowKind> want;
      const int first_held = std::max(0, newest - window + 1);
      if (newest - window >= 0) {
        positions.push_back(newest - window);
        want.push_back(RowKind::Evicted);
      }
      for (int pos = first_held; pos <= newest; ++pos) {
        positions.push_back(pos);
        want.push_back(pos >= t.position_begin ? RowKind::NewlyComputed : RowKind::ReadFromCache);
      }
      std::vector<int> got_positions;
      for (const RowView& r : p.rows) got_positions.push_back(r.position);
      CHECK(got_positions == positions);
      CHECK(kinds(p) == want);
      // The layer map: every position before the window evicted by now, the window held.
      REQUIRE(int(p.layers.size()) == 2);
      for (int pos = 0; pos <= newest; ++pos)
        CHECK((p.layers[layer][pos] == RowKind::Evicted) == (pos < first_held));
      CHECK(p.rows_read_newest == newest + 1 - first_held);
    }
  }
}

TEST_CASE("captions are written from the trace", "[gui][views]") {
  const std::vector<StepTrace> h = default_lesson_traces();
  const Caption c0 = make_caption(h[0]);
  CHECK(c0.title == "Step 0 \xE2\x80\x94 'Time' at position 0 \xC2\xB7 Prefill");
  CHECK(c0.uncached == "Without a cache: K and V computed for position 0 in every layer (none redundant yet).");
  const Caption c2 = make_caption(h[2]);
  CHECK(c2.title == "Step 2 \xE2\x80\x94 'fast' at position 2 \xC2\xB7 Decode");
  CHECK(c2.uncached ==
        "Without a cache: K and V recomputed for positions 0\xE2\x80\x93" "2 in every layer (4 rows redundant).");
  CHECK(c2.cached == "With a cache: 1 new row per layer; rows 0\xE2\x80\x93" "1 read back.");
  CHECK(c2.modes_agree);
  CHECK(c2.badge.rfind("cached = uncached \xE2\x9C\x93", 0) == 0);
  StepTrace broken = h[2];
  broken.max_abs_logit_diff = 0.5f;
  CHECK_FALSE(make_caption(broken).modes_agree);
}

TEST_CASE("the caption view lists the modes' sentences, the lesson lines, then the details", "[gui][views]") {
  const std::vector<StepTrace> h = default_lesson_traces();
  LessonReport report;
  report.lines = {"line one"};
  report.details = {"detail one", "detail two"};
  const Lesson lesson = default_lesson();
  const CaptionView full = make_caption_view(h[2], &report, lesson, false);
  CHECK(full.caption.title == make_caption(h[2]).title);
  std::vector<std::string> texts;
  std::vector<ParagraphKind> kinds_seen;
  for (const Paragraph& p : full.paragraphs) {
    texts.push_back(p.text);
    kinds_seen.push_back(p.kind);
  }
  const std::string note = lesson.steps[2].caption;
  std::vector<std::string> want = {full.caption.uncached, full.caption.cached, "line one", "detail one", "detail two"};
  if (!note.empty()) want.push_back(note);
  CHECK(texts == want);
  CHECK(kinds_seen[0] == ParagraphKind::Plain);
  CHECK(kinds_seen[2] == ParagraphKind::LessonLine);
  CHECK(kinds_seen[4] == ParagraphKind::LessonLine);
  // A lesson view below draws the details: the caption leaves them out.
  const CaptionView short_view = make_caption_view(h[2], &report, lesson, true);
  CHECK(short_view.paragraphs.size() == full.paragraphs.size() - 2);
}

TEST_CASE("lessons: the built-in default and broken files", "[gui][views]") {
  const Lesson l = default_lesson();
  CHECK(l.prompt == "Time");
  CHECK(l.continuation.empty());  // the model picks "flies" and "fast" itself
  CHECK(l.steps.size() == 3);
  const Lesson file = load_lesson_file(KVSCOPE_SOURCE_DIR "/examples/lessons/time_flies_fast.json");
  CHECK(file.title == l.title);
  CHECK_THROWS_WITH(parse_lesson("{\"prompt\": 3}", "x.json"), Catch::Contains("x.json") && Catch::Contains("prompt"));
  CHECK_THROWS_AS(parse_lesson("{not json", "y.json"), DataError);
  CHECK_THROWS_WITH(load_lesson_file("/nonexistent/lesson.json"), Catch::Contains("/nonexistent/lesson.json"));
}

TEST_CASE("palette: text and marker glyphs meet 4.5:1 in every theme", "[gui][views]") {
  for (ThemeId id : {ThemeId::Light, ThemeId::Dark, ThemeId::HighContrast}) {
    const Palette& p = palette(id);
    INFO(theme_name(id));
    CHECK(contrast_ratio(p.text, p.panel) >= 4.5f);
    CHECK(contrast_ratio(p.text_muted, p.panel) >= 4.5f);
    CHECK(contrast_ratio(p.good, p.panel) >= 4.5f);
    CHECK(contrast_ratio(p.bad, p.panel) >= 4.5f);
    CHECK(contrast_ratio(p.newest, p.panel) >= 3.0f);
    for (int k = 0; k <= int(RowKind::RolledBack); ++k) CHECK(contrast_ratio(p.row_glyph[k], p.row[k]) >= 4.5f);
    CHECK(contrast_ratio(p.border, p.panel) >= 3.0f);
  }
}

TEST_CASE("number formats", "[gui][views]") {
  CHECK(format_count(1234567) == "1,234,567");
  CHECK(format_bytes(3072) == "3.07 kB");  // one convention: decimal units
  CHECK(format_bytes(640) == "640 B");
  CHECK(format_bytes(4294967296LL) == "4.29 GB");
  CHECK(position_list({0, 1, 2}) == "0\xE2\x80\x93" "2");
  CHECK(position_list({4}) == "4");
  CHECK(position_list({0, 2}) == "0, 2");
  CHECK(format_percent(0.734) == "73%");
  CHECK(format_percent(0.0096) == "1%");
  CHECK(format_percent(0.0042) == "0.4%");
  CHECK(format_percent(0.0008) == "0.1%");
  CHECK(format_percent(1.0 / 50257) == "<0.1%");
}

TEST_CASE("MLA cached pane: each held position shows its cached latent and the K rebuilt from it, equal to the uncached pass's K", "[gui][views]") {
  LoadedModel m = load_preset("demo-mla");
  const ModelConfig& config = m.model->config();
  REQUIRE(config.mla());
  DecodeSession session(m.model, m.tokenizer, SessionOptions{});
  session.start(m.tokenizer->encode_prompt("Time"), m.tokenizer->encode(" flies fast"));
  for (int i = 0; i < 3; ++i) session.step();
  const std::vector<StepTrace>& h = session.history();
  const int step = 2, layer = 1;
  const PaneView pane = cached_pane(h, step, layer);
  CHECK(pane.latent_width == config.kv_lora_rank + config.qk_rope_dim);
  CHECK(pane.latent_scale > 0.0f);
  const PaneView uncached = uncached_pane(h, step, layer);
  REQUIRE(pane.rows.size() == uncached.rows.size());
  const int kv_dim = config.n_head * config.d_head();
  for (std::size_t i = 0; i < pane.rows.size(); ++i) {
    const RowView& r = pane.rows[i];
    INFO("position " << r.position);
    REQUIRE(r.latent != nullptr);
    REQUIRE(r.rebuilt_key != nullptr);
    REQUIRE(uncached.rows[i].key != nullptr);
    float diff = 0.0f;
    for (int j = 0; j < kv_dim; ++j) diff = std::max(diff, std::abs(r.rebuilt_key[j] - uncached.rows[i].key[j]));
    CHECK(diff < 1e-4f);
  }
  CHECK(uncached_pane(h, step, layer).latent_width == 0);  // the uncached pane draws K and V as before
}

TEST_CASE("max_abs: the largest magnitude wherever it sits, the tail past the last eight included", "[gui][views]") {
  // Every length from none to four blocks and a tail, the largest |value| (negative half the time) put
  // at each position in turn; the reference is one plain pass.
  for (int n = 0; n <= 37; ++n) {
    std::vector<float> x(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) x[std::size_t(i)] = float((i * 7) % 5) * (i % 2 ? -0.25f : 0.25f);
    for (int at = 0; at < n; ++at) {
      std::vector<float> y = x;
      y[std::size_t(at)] = at % 2 ? -3.0f : 3.0f;
      float expected = 0.0f;
      for (float v : y) expected = std::max(expected, v < 0 ? -v : v);
      INFO("n " << n << ", largest at " << at);
      CHECK(max_abs(y.data(), n) == expected);
    }
  }
  CHECK(max_abs(nullptr, 0) == 0.0f);
}
