// The real kvscope window under Xvfb: the headless screenshot path, pixel checks of both panes and the
// heatmaps, and stepping with the keyboard alone.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <thread>

#include "window_driver.h"

using kvscope::test::count_pixels;
using kvscope::test::count_regions;
using kvscope::test::last_state;
using nlohmann::json;

namespace {

constexpr unsigned kNew = 0x0072B2, kRecomputed = 0xE69F00, kFromCache = 0x56B4E9;  // light theme marks
constexpr unsigned kMasked = 0xC8C8C8, kHatch = 0x8A8A8A, kEmpty = 0xF4F4F4;

struct Shot {
  kvscope::test::Image image;
  json state;
};

Shot headless(int steps, const std::string& size) {
  const std::string dir = kvscope::test::temp_dir();
  const std::string png = dir + "/shot.png", state = dir + "/state.jsonl";
  const kvscope::test::RunResult r = kvscope::test::run(
      {KVSCOPE_GUI_BINARY, "--steps", std::to_string(steps), "--size", size, "--screenshot", png, "--state-file", state});
  INFO(r.output);
  REQUIRE(r.status == 0);
  return {kvscope::test::load_png(png), last_state(state)};
}

// Marks per pane at step t on the demo model (2 layers): the chosen layer's row list plus the map of
// every layer. Without a cache rows 0..t-1 are recomputed and row t is new, in every layer; with one,
// rows 0..t-1 come from the cache and one row per layer is new.
void check_panes(const Shot& s, int t) {
  const int n_layer = s.state["n_layer"];
  REQUIRE(n_layer == 2);
  const json& unc = s.state["pane_uncached"];
  const json& kv = s.state["pane_cached"];
  CHECK(count_regions(s.image, kRecomputed, unc) == t + t * n_layer);
  CHECK(count_regions(s.image, kNew, unc) == 1 + n_layer);
  CHECK(count_regions(s.image, kNew, kv) == 1 + n_layer);
  CHECK(count_regions(s.image, kFromCache, kv) == t + t * n_layer);
  CHECK(count_regions(s.image, kRecomputed, kv) == 0);
  CHECK(count_regions(s.image, kFromCache, unc) == 0);
}

}  // namespace

TEST_CASE("headless: step 2 at 1600x900 shows both panes, the heatmaps and the tokens", "[gui][window]") {
  const Shot s = headless(2, "1600x900");
  CHECK(s.image.width == 1600);
  CHECK(s.image.height == 900);
  CHECK(s.state["step"] == 2);
  CHECK(s.state["tokens"] == json::array({"Time", "flies", "fast"}));
  CHECK(s.state["caption"] == "Step 2 \xE2\x80\x94 'fast' at position 2 \xC2\xB7 Decode");
  CHECK(s.state["font_px"].get<double>() >= 18.0);  // presenter: 900 / 49
  check_panes(s, 2);
  // Uncached heatmap: the full 3x3 causal matrix, its 3 future cells hatched, no empty rows.
  const json& hu = s.state["heatmap_uncached"];
  const double side = hu[2].get<double>() - hu[0].get<double>();
  REQUIRE(side > 100);
  CHECK(count_pixels(s.image, kMasked, hu) > 0);
  CHECK(count_pixels(s.image, kHatch, hu) > 0);
  CHECK(count_pixels(s.image, kEmpty, hu) == 0);
  // Cached heatmap: only the newest query row; the two rows above are empty (no Q kept), none masked.
  const json& hc = s.state["heatmap_cached"];
  const long empty = count_pixels(s.image, kEmpty, hc);
  CHECK(empty > long(side * side * 0.5));
  CHECK(empty < long(side * side * 0.7));
  CHECK(count_pixels(s.image, kMasked, hc) < 20);  // at most anti-aliased text edges, no masked cell
}

TEST_CASE("headless: the newest row's K values read the same in both panes, one colour per value", "[gui][window]") {
  // The strips are one texture (a row each): a row drawn from the wrong texture row, or not uploaded,
  // would differ between the panes or be flat. Without a cache and with one the newest K row is the
  // same numbers (to 1e-6), so its pixels must match column by column.
  const Shot s = headless(2, "1600x900");
  const json& strips = s.state["newest_k_strip"];
  const auto px = [](const json& r, int i) { return int(std::lround(r[i].get<double>())); };
  const json& a = strips[0];
  const json& b = strips[1];
  REQUIRE(px(a, 2) - px(a, 0) > 64);
  REQUIRE(px(a, 2) - px(a, 0) == px(b, 2) - px(b, 0));
  const int ya = (px(a, 1) + px(a, 3)) / 2, yb = (px(b, 1) + px(b, 3)) / 2;
  std::set<unsigned> colours;
  int differing = 0;
  for (int x = px(a, 0) + 1; x < px(a, 2) - 1; ++x) {
    const unsigned ca = s.image.color(x, ya), cb = s.image.color(x - px(a, 0) + px(b, 0), yb);
    colours.insert(ca);
    if (ca != cb) ++differing;
  }
  CHECK(differing <= 2);  // a cell edge may fall on another pixel
  // The row above (position 1, other numbers) must look different: up through the gap to its strip.
  const int xm = (px(b, 0) + px(b, 2)) / 2;
  int y_above = px(b, 1) - 2;
  while (y_above > px(b, 1) - 60 && s.image.color(xm, y_above) == 0xFFFFFFu) --y_above;
  y_above -= 4;  // inside that strip, past its outline
  REQUIRE(y_above > px(b, 1) - 60);                      // the row above was found ...
  REQUIRE(s.image.color(xm, y_above) != 0xFFFFFFu);      // ... and this line is inside its strip
  int same_as_above = 0, columns = 0;
  for (int x = px(b, 0) + 1; x < px(b, 2) - 1; ++x, ++columns)
    if (s.image.color(x, y_above) == s.image.color(x, yb)) ++same_as_above;
  CHECK(same_as_above < columns / 2);
  // demo has 16 values per head: most cells have their own colour, none is the panel's white.
  CHECK(colours.size() >= 10);
  CHECK(colours.count(0xFFFFFFu) == 0);
}

TEST_CASE("headless: the PNG has the requested size, nothing lost at 1280x720 and 1920x1080", "[gui][window]") {
  for (const char* size : {"1280x720", "1920x1080"}) {
    INFO(size);
    const Shot s = headless(1, size);
    CHECK(s.image.width == (std::string(size) == "1280x720" ? 1280 : 1920));
    CHECK(s.image.height == (std::string(size) == "1280x720" ? 720 : 1080));
    check_panes(s, 1);
    if (std::string(size) == "1920x1080") CHECK(s.state["font_px"].get<double>() >= 22.0);
    // Every pane and heatmap lies inside the window.
    for (const char* key : {"pane_uncached", "pane_cached", "heatmap_uncached", "heatmap_cached"}) {
      const json& r = s.state[key];
      CHECK(r[2].get<double>() <= s.image.width);
      CHECK(r[3].get<double>() <= s.image.height);
    }
  }
}

TEST_CASE("bad arguments exit 2, a broken lesson exits 1, each with one line", "[gui][window]") {
  const auto bad = kvscope::test::run({KVSCOPE_GUI_BINARY, "--size", "banana"});
  CHECK(bad.status == 2);
  CHECK(bad.output.find("--size") != std::string::npos);
  const std::string dir = kvscope::test::temp_dir();
  std::ofstream(dir + "/broken.json") << "{\"prompt\": ";
  const auto broken = kvscope::test::run(
      {KVSCOPE_GUI_BINARY, "--lesson", dir + "/broken.json", "--steps", "0", "--screenshot", dir + "/x.png"});
  CHECK(broken.status == 1);
  CHECK(broken.output.find("broken.json") != std::string::npos);
  CHECK(std::count(broken.output.begin(), broken.output.end(), '\n') == 1);
  const auto preset = kvscope::test::run({KVSCOPE_GUI_BINARY, "--preset", "nope", "--steps", "0", "--screenshot", dir + "/y.png"});
  CHECK(preset.status == 2);
}

TEST_CASE("keyboard alone: step, back and reset change the step shown", "[gui][window]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl";
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--size", "1280x720", "--state-file", state}, state, dir);
  const auto shown = kvscope::test::steps_shown;
  REQUIRE_FALSE(w.wait_for(shown(0)).is_null());
  CHECK(w.latest()["step"] == -1);  // opens ready to step, nothing computed
  w.key("space");
  json j = w.wait_for(shown(1));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["caption"] == "Step 0 \xE2\x80\x94 'Time' at position 0 \xC2\xB7 Prefill");
  const int uploads_after_step = j["heatmap_uploads"];
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // several idle frames
  CHECK(w.latest()["heatmap_uploads"] == uploads_after_step);   // textures rebuilt only on change
  w.key("Right");
  REQUIRE_FALSE(w.wait_for(shown(2)).is_null());
  w.key("space");
  j = w.wait_for(shown(3));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["step"] == 2);
  CHECK(j["position"] == 2);
  CHECK(j["tokens"] == json::array({"Time", "flies", "fast"}));
  w.key("Left");
  j = w.wait_for(shown(2));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["step"] == 1);
  CHECK(j["tokens"] == json::array({"Time", "flies"}));
  w.key("BackSpace");
  REQUIRE_FALSE(w.wait_for(shown(1)).is_null());
  w.key("space");
  w.key("space");
  REQUIRE_FALSE(w.wait_for(shown(3)).is_null());
  w.key("r");
  j = w.wait_for(shown(0));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["step"] == -1);
  w.key("2");
  CHECK_FALSE(w.wait_for([](const json& s) { return s["layer"] == 1; }).is_null());
  const double px = w.latest()["font_px"];
  w.key("plus");
  CHECK_FALSE(w.wait_for([px](const json& s) { return s["font_px"].get<double>() > px; }).is_null());
  w.key("F12");
  CHECK_FALSE(w.wait_for([&dir](const json&) { return std::ifstream(dir + "/kvscope-step0.png").good(); }).is_null());
  CHECK(w.alive());
}

TEST_CASE("presenter at 1920x1080: legible at the context-limit lesson's last step", "[gui][window]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string png = dir + "/shot.png", state = dir + "/state.jsonl";
  const kvscope::test::RunResult r = kvscope::test::run({KVSCOPE_GUI_BINARY, "--lesson", "context_limit", "--steps", "4",
                                                         "--size", "1920x1080", "--screenshot", png, "--state-file", state});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json s = last_state(state);
  INFO(s.dump());
  REQUIRE(s["step"] == 4);
  REQUIRE(s["position"] == 31);
  // No text under 22 px (1/49 of the height), measured from the glyphs drawn.
  CHECK(s["min_text_px"].get<double>() >= 22.0);
  for (int pane = 0; pane < 2; ++pane) {
    INFO("pane " << pane);
    CHECK(s["heatmap_cell_px"][pane].get<double>() >= 12.0);
    CHECK(s["heatmap_cells"][pane][0].get<int>() >= 1);
    CHECK(s["heatmap_cells"][pane][1].get<int>() >= 1);
    CHECK(s["kv_rows_visible"][pane].get<int>() >= 8);
  }
  // Both panes draw the same rows and keys, so the cached pane's new row is as large as the others.
  CHECK(s["heatmap_cells"][0] == s["heatmap_cells"][1]);
  CHECK(s["heatmap_cell_px"][0] == s["heatmap_cell_px"][1]);
  // The cells drawn fit their picture.
  const json& hu = s["heatmap_uncached"];
  const double key_px = s["heatmap_key_px"][0].get<double>();
  CHECK(key_px >= 6.0);  // a key column may be narrower than a row is tall, never under half of it
  CHECK(hu[2].get<double>() - hu[0].get<double>() == Approx(key_px * s["heatmap_cells"][0][1].get<int>()).margin(1.0));
}

TEST_CASE("--frame-stats prints one JSON line with the frame times", "[gui][window]") {
  const kvscope::test::RunResult r = kvscope::test::run({KVSCOPE_GUI_BINARY, "--steps", "1", "--frame-stats", "12"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::size_t open = r.output.rfind('{');
  REQUIRE(open != std::string::npos);
  const json j = json::parse(r.output.substr(open));
  CHECK(j["frames"] == 12);
  CHECK(j["median_ms"].get<double>() > 0.0);
  CHECK(j["p99_ms"].get<double>() >= j["median_ms"].get<double>());
  const auto alone = kvscope::test::run({KVSCOPE_GUI_BINARY, "--frame-stats", "5"});
  CHECK(alone.status == 2);  // needs --steps
}

TEST_CASE("demo-llama: a query-head chip picks the KV head it reads; O shows K before and after rotation", "[gui][window]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl";
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--preset", "demo-llama", "--size", "1280x720", "--state-file", state},
                                 state, dir);
  const auto shown = kvscope::test::steps_shown;
  REQUIRE_FALSE(w.wait_for(shown(0)).is_null());
  w.key("space");
  w.key("space");
  json j = w.wait_for(shown(2));
  REQUIRE_FALSE(j.is_null());
  REQUIRE(j["head_chips"].size() == 4);  // 4 query heads in 2 groups
  CHECK(j["kv_head_shown"] == 0);
  w.click_center(j["head_chips"][3]);
  j = w.wait_for([](const json& s) { return s["head"] == 3; });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["kv_head_shown"] == 1);  // heads 2 and 3 share KV head 1 (4 heads / 2 KV heads, in order)
  CHECK(j["lesson_view"][2].get<double>() - j["lesson_view"][0].get<double>() == 0.0);  // heatmaps below
  w.key("o");
  j = w.wait_for([](const json& s) { return s["rotation"].get<bool>(); });
  REQUIRE_FALSE(j.is_null());
  const json& view = j["lesson_view"];
  CHECK(view[0].get<double>() >= 0.0);
  CHECK(view[2].get<double>() - view[0].get<double>() > 600.0);  // drawn under the panes
  CHECK(view[3].get<double>() <= 720.0);
  CHECK(j["min_text_px"].get<double>() >= 12.0);
  w.key("o");
  CHECK_FALSE(w.wait_for([](const json& s) { return !s["rotation"].get<bool>(); }).is_null());
  CHECK(w.alive());
}

TEST_CASE("batch lesson: the block-pool view shows each round's blocks by owner, stepped with the keyboard", "[gui][window]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl", png = dir + "/pool.png";
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--lesson", "two_students_one_prompt", "--size", "1600x900",
                                  "--state-file", state}, state, dir);
  const auto shown = kvscope::test::steps_shown;
  REQUIRE_FALSE(w.wait_for(shown(0)).is_null());
  w.key("space");
  json j = w.wait_for(shown(1));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["lesson"]["kind"] == "batch");
  // Pool: 2 prompts of 22 tokens and a joiner, 5 new tokens each, blocks of 4, nothing shared:
  // 2 x ceil(26/4) + ceil(31/4) = 14 + 8 blocks.
  REQUIRE(j["pool_blocks"].size() == 22);
  w.key("space");
  w.key("space");
  j = w.wait_for(shown(3));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["pool_blocks"].size() == 22);
  CHECK(j["min_text_px"].get<double>() >= 12.0);
  CHECK(j["caption_overflow"].get<double>() == 0.0);
  CHECK(w.alive());

  // The same round headless, for its pixels: the 14-token system prompt's three full blocks (0-2) are held
  // by all three students (split into their colours), block 3 by student 0 alone, block 14 is free.
  const kvscope::test::RunResult r = kvscope::test::run({KVSCOPE_GUI_BINARY, "--lesson", "two_students_one_prompt", "--steps", "2",
                                                         "--size", "1600x900", "--screenshot", png, "--state-file", state});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json s = last_state(state);
  const kvscope::test::Image image = kvscope::test::load_png(png);
  constexpr unsigned kS0 = 0xE69F00, kS1 = 0x56B4E9, kS2 = 0x009E73;
  const json& blocks = s["pool_blocks"];
  REQUIRE(blocks.size() == 22);
  for (int b = 0; b < 3; ++b) {
    INFO("block " << b);
    CHECK(count_pixels(image, kS0, blocks[b]) > 20);
    CHECK(count_pixels(image, kS1, blocks[b]) > 20);
    CHECK(count_pixels(image, kS2, blocks[b]) > 20);
  }
  CHECK(count_pixels(image, kS0, blocks[3]) > 100);
  CHECK(count_pixels(image, kS1, blocks[3]) == 0);
  for (unsigned colour : {kS0, kS1, kS2}) CHECK(count_pixels(image, colour, blocks[14]) == 0);
}

TEST_CASE("cache_policy lesson: L puts the compared policy in the left pane, beside the lesson's", "[gui][window]") {
  const std::string dir = kvscope::test::temp_dir();
  const std::string state = dir + "/state.jsonl", png = dir + "/policies.png";
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--lesson", "attention_sinks", "--size", "1600x900", "--state-file", state},
                                 state, dir);
  const auto shown = kvscope::test::steps_shown;
  // It opens at its key step (test_lessons.cpp); R starts it again from the prompt.
  REQUIRE_FALSE(w.wait_for([](const json& s) { return !s["busy"].get<bool>() && s["steps_shown"].get<int>() > 0; }, 60.0).is_null());
  w.key("r");
  REQUIRE_FALSE(w.wait_for(shown(0)).is_null());
  w.key("space");
  w.key("space");
  json j = w.wait_for(shown(2));
  REQUIRE_FALSE(j.is_null());
  CHECK(j["left_pane"] == "uncached");
  w.key("l");
  j = w.wait_for([](const json& s) { return s["left_pane"] != "uncached"; });
  REQUIRE_FALSE(j.is_null());
  CHECK(j["left_pane"] == "window:16");  // the lesson's "compare"
  w.key("l");
  CHECK_FALSE(w.wait_for([](const json& s) { return s["left_pane"] == "uncached"; }).is_null());
  CHECK(w.alive());

  // Past 16 positions both panes hold 16 rows per layer and KV head: the left pane (window:16) marks
  // evicted rows in its layer map, as the right one (sinks:4,window:12) does; without a cache it has none.
  constexpr unsigned kEvicted = 0xCC79A7;
  for (const char* left : {"compared", "uncached"}) {
    INFO(left);
    const kvscope::test::RunResult r = kvscope::test::run({KVSCOPE_GUI_BINARY, "--lesson", "attention_sinks", "--steps", "4",
                                                           "--left-pane", left, "--size", "1600x900", "--screenshot", png,
                                                           "--state-file", state});
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json s = last_state(state);
    const kvscope::test::Image image = kvscope::test::load_png(png);
    CHECK(s["left_pane"] == (std::string(left) == "compared" ? "window:16" : "uncached"));
    CHECK(count_pixels(image, kEvicted, s["pane_cached"]) > 100);
    if (std::string(left) == "compared") CHECK(count_pixels(image, kEvicted, s["pane_uncached"]) > 100);
    else CHECK(count_pixels(image, kEvicted, s["pane_uncached"]) == 0);
  }
}
