// The window at a long context, as a teacher uses it: a model folder with a long context (small, random
// weights, the demo corpus's words: two layers keep the sanitizer build quick) and a prompt filled past
// the point where a step keeps its attention pooled (--prompt-len), opened at step 1. The heatmaps show cells of
// several positions (their count from the closed form: the smallest power of two giving at most 160
// cells), the newest query's strip shows every key, the mouse wheel over the strip zooms it down to one
// cell per key, and every number drawn, the hover's weight included, is declared.
#include <catch2/catch.hpp>

#include "core/engine/model/weights.h"
#include "core/formats/model_folder_writer.h"
#include "core/train/corpus.h"
#include "figure_ledger.h"
#include "window_driver.h"

using nlohmann::json;

TEST_CASE("a long prompt: pooled heatmaps and a strip the wheel zooms to one cell per key", "[window][long]") {
  const std::string dir = kvscope::test::temp_dir(), state = dir + "/s.jsonl";
  const kvscope::Corpus corpus = kvscope::read_corpus(std::string(KVSCOPE_SOURCE_DIR) + "/examples/corpus/demo_corpus.txt");
  kvscope::ModelConfig config;  // GPT-2 style
  config.vocab_size = int(corpus.vocabulary.size());
  config.context_length = 1024;
  config.d_model = 32;
  config.n_head = 4;
  config.n_layer = 2;
  kvscope::save_model_folder(dir + "/long", config, kvscope::random_weights(config, 3), corpus.vocabulary);
  const int prompt = 520, keys = prompt + 1;  // step 1 reads 521 keys: past 512, so its weights are pooled
  kvscope::test::WindowProcess w({KVSCOPE_GUI_BINARY, "--model", dir + "/long", "--prompt-len", std::to_string(prompt),
                                  "--size", "1600x900", "--start-step", "1", "--state-file", state},
                                 state, dir);
  json j = w.wait_for(kvscope::test::steps_shown(2), 240.0);
  REQUIRE_FALSE(j.is_null());
  int cell = 1;
  while ((keys + cell - 1) / cell > 160) cell *= 2;
  CHECK(j["heatmap_positions_per_cell"] == json::array({cell, cell}));
  const int cells = (keys + cell - 1) / cell;
  CHECK(j["heatmap_cells"] == json::array({json::array({cells, cells}), json::array({cells, cells})}));
  CHECK(j["strip_keys"][1] == json::array({0, keys}));
  CHECK(kvscope::test::uncovered_numbers(j).empty());
  // Wheel up over the cached pane's strip, one click at a time: each halves the keys shown, around the pointer.
  const json strip = j["newest_strip_cached"];
  const double x = strip[0].get<double>() + (strip[2].get<double>() - strip[0].get<double>()) * 0.9, y = (strip[1].get<double>() + strip[3].get<double>()) * 0.5;
  int shown = keys;
  for (int click = 0; click < 8 && shown > 40; ++click) {
    w.scroll(x + click % 2, y, 1);  // a pixel apart: xdotool's synced move waits for the pointer to move
    j = w.wait_for([shown](const json& s) { return s["strip_keys"][1][1].get<int>() < shown; }, 20.0);
    REQUIRE_FALSE(j.is_null());
    const int now = j["strip_keys"][1][1].get<int>();
    CHECK(now == shown / 2);
    shown = now;
  }
  // Zoomed in, near the newest keys (the pointer was at 90% of the strip).
  const int begin = j["strip_keys"][1][0].get<int>();
  CHECK(begin + shown > keys * 8 / 10);
  // One cell per key: the hover (the pointer is still there) names one key and its exact weight.
  j = w.wait_for([](const json& s) {
    for (const json& f : s["figures"])
      if (f["quantity"] == "attention_weight" && f.contains("key")) return true;
    return false;
  }, 20.0);
  REQUIRE_FALSE(j.is_null());
  CHECK(kvscope::test::uncovered_numbers(j).empty());
  CHECK(w.stop() == 0);
}
