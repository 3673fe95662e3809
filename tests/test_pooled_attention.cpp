// Long calls keep their attention weights pooled (ForwardRecord::keep_for, LayerRecord::pooled): each
// cell's largest weight and mean, held against the same call's exact weights pooled here by plain loops
// over (query, key) pairs; the record without the exact weights (over its byte budget) pools the same
// numbers, and keeps the newest row exact. Blocked prefills, prompts fed in chunks that start inside a
// cell, decode steps (one row), row-by-row order, local windows and a cache policy's evictions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/engine/cache/kv_cache.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/random.h"
#include "core/engine/session/session.h"
#include "core/engine/cache/kv_policy.h"
#include "core/formats/model_source.h"
#include "core/tokenizers/id_tokenizer.h"

using namespace kvscope;

namespace {

ForwardRecord small_cells(std::int64_t exact_bytes) {
  ForwardRecord record;
  record.with_rows = false;
  record.with_attention = true;
  record.pool_above_positions = 8;
  record.pool_cells = 12;
  record.exact_attention_bytes = exact_bytes;
  return record;
}

// Every call of the prompt fed in chunks; returns the records of the last call, exact and pooled-only.
struct Calls {
  ForwardRecord exact, pooled_only;
};

Calls run(const Model& model, const std::vector<int>& tokens, int window, std::size_t chunk) {
  Calls out{small_cells(std::int64_t(1) << 40), small_cells(0)};
  for (ForwardRecord* record : {&out.exact, &out.pooled_only}) {
    KvCache cache(model.config(), window);
    RowVector logits;
    for (std::size_t begin = 0; begin < tokens.size(); begin += chunk) {
      const std::vector<int> part(tokens.begin() + std::ptrdiff_t(begin),
                                  tokens.begin() + std::ptrdiff_t(std::min(tokens.size(), begin + chunk)));
      model.forward_cached(part, cache, window, logits, record);
    }
  }
  return out;
}

// The pooled cells of one layer and head, from the exact weights and the record's reads.
void check_pooled(const ForwardRecord& exact, const ForwardRecord& pooled_only, int layer, int head) {
  const LayerRecord& l = exact.layers[std::size_t(layer)];
  const PooledAttention& p = l.pooled;
  REQUIRE(p.cell > 0);
  const int key_end = exact.key_end, first = exact.query_begin, cell = p.cell;
  // The cell side: the smallest power of two that gives at most pool_cells cells.
  CHECK((cell & (cell - 1)) == 0);
  CHECK((key_end + cell - 1) / cell <= exact.pool_cells);
  if (cell > 1) CHECK((key_end + cell / 2 - 1) / (cell / 2) > exact.pool_cells);
  const Matrix& w = l.attention[std::size_t(head)];
  const int key_cells = (key_end + cell - 1) / cell;
  const int row_begin = first / cell, row_cells = (key_end - 1) / cell - row_begin + 1;
  REQUIRE(p.row_cell_begin == row_begin);
  REQUIRE(p.max[std::size_t(head)].rows() == row_cells);
  REQUIRE(p.max[std::size_t(head)].cols() == key_cells);
  for (int r = 0; r < row_cells; ++r)
    for (int kc = 0; kc < key_cells; ++kc) {
      double largest = -1.0, sum = 0.0;
      int rows = 0;
      for (int q = (row_begin + r) * cell; q < (row_begin + r + 1) * cell && q < key_end; ++q) {
        if (q < first) continue;
        ++rows;
        for (int k = kc * cell; k < (kc + 1) * cell && k < key_end; ++k)
          if (exact.key_read(layer, q, k)) {
            largest = std::max(largest, double(w(q - first, k)));
            sum += w(q - first, k);
          }
      }
      const int keys = std::min(cell, key_end - kc * cell);
      INFO("cell " << r << "," << kc << " of " << cell << " positions");
      CHECK(p.max[std::size_t(head)](r, kc) == float(largest));
      CHECK(p.mean[std::size_t(head)](r, kc) == Approx(sum / (double(rows) * keys)).margin(1e-7));
    }
  // Without the exact weights: the same cells, and the newest row exact.
  const LayerRecord& o = pooled_only.layers[std::size_t(layer)];
  CHECK(o.attention.empty());
  CHECK(o.pooled.cell == cell);
  CHECK(o.pooled.max[std::size_t(head)] == p.max[std::size_t(head)]);
  CHECK((o.pooled.mean[std::size_t(head)] - p.mean[std::size_t(head)]).cwiseAbs().maxCoeff() < 1e-7f);
  CHECK(o.newest_attention[std::size_t(head)] == w.row(w.rows() - 1));
  CHECK(l.newest_attention[std::size_t(head)] == w.row(w.rows() - 1));
}

}  // namespace

TEST_CASE("a long call's pooled attention is the max and mean of its exact weights per cell", "[attention][pooled]") {
  struct Case {
    std::string preset;
    int window;
    std::size_t chunk;
    bool row_by_row;
  };
  // chunk 37: later calls start inside a cell (their first cell row is part computed); chunk 1 ends on a
  // one-row decode call; row_by_row: attend_row on several threads, each row its own.
  const std::vector<Case> cases = {{"demo-llama", 0, 1000, false}, {"demo-llama", 0, 37, false}, {"demo-llama", 20, 1000, false},
                                   {"demo", 0, 1000, true},        {"gemma3-layout", 0, 50, false}, {"demo-llama", 0, 1, false},
                                   {"demo-mla", 0, 1000, false}};
  for (const Case& c : cases) {
    const LoadedModel loaded = load_preset(c.preset);
    Model model = *loaded.model;
    if (c.row_by_row) model.set_numerics({WeightDtype::F32, true});
    SplitMix64 rng(5);
    const int length = std::min(model.config().context_length, c.chunk == 1 ? 60 : 150);
    std::vector<int> tokens(static_cast<std::size_t>(length));
    for (int& id : tokens) id = int(rng.next() % std::uint64_t(model.config().vocab_size));
    INFO(c.preset << ", window " << c.window << ", chunks of " << c.chunk);
    const Calls calls = run(model, tokens, c.window, c.chunk);
    for (int layer : {0, model.config().n_layer - 1})
      for (int head : {0, model.config().n_head - 1}) check_pooled(calls.exact, calls.pooled_only, layer, head);
  }
}

TEST_CASE("a session at 600 positions keeps pooled cells and the newest row, under a cache policy too", "[attention][pooled]") {
  // A small GPT-2-style model with a long context: past 512 keys every step pools, whatever the sizes.
  ModelConfig config;
  config.vocab_size = 256;
  config.context_length = 1024;
  config.d_model = 32;
  config.n_head = 4;
  config.n_layer = 2;
  auto model = std::make_shared<const Model>(config, random_weights(config, 11));
  SessionOptions options;
  options.record_rows = false;
  options.kv_policy = parse_kv_policy("sinks:4,window:64");  // evicted keys are read by no one
  DecodeSession session(model, std::make_shared<IdTokenizer>(config.vocab_size), options);
  std::vector<int> prompt(600);
  for (std::size_t i = 0; i < prompt.size(); ++i) prompt[i] = int((i * 7919) % 256);
  session.start(prompt, {});
  session.step();
  StepTrace t = session.step();
  const int n_head = config.n_head, layer = 1;
  const LayerRecord& cached = t.cached.forward.layers[layer];
  const LayerRecord& uncached = t.uncached.forward.layers[layer];
  REQUIRE(cached.attention.size() == std::size_t(n_head));  // both within the byte budget: exact too
  REQUIRE(uncached.attention.size() == std::size_t(n_head));
  REQUIRE_FALSE(uncached.pooled.empty());
  REQUIRE_FALSE(cached.pooled.empty());
  CHECK(cached.pooled.cell == 4);  // 601 keys in at most 160 cells
  CHECK(cached.pooled.row_cell_begin == 600 / 4);
  CHECK(uncached.pooled.row_cell_begin == 0);
  for (int h = 0; h < n_head; ++h) {
    const RowVector& newest = cached.newest_attention[std::size_t(h)];
    CHECK(newest == cached.attention[std::size_t(h)].row(0));
    CHECK(uncached.newest_attention[std::size_t(h)] == uncached.attention[std::size_t(h)].row(600));
    for (int k = 0; k < 601; ++k) {
      if (k >= 8 && k < 500) CHECK(newest[k] == 0.0f);  // evicted: never read
      // Full attention's newest row reads every key.
      CHECK(uncached.newest_attention[std::size_t(h)][k] > 0.0f);
    }
    // The cached cells of keys 8..535 were all evicted: masked (-1); the sinks' cell holds their largest weight.
    CHECK(cached.pooled.max[std::size_t(h)](0, 10) == -1.0f);
    CHECK(cached.pooled.max[std::size_t(h)](0, 0) == newest.head(4).maxCoeff());
  }
  // The pooled cells and the newest rows are large tensors: dropped with the others, restored equal.
  const std::int64_t before = large_tensor_bytes(t);
  drop_large_tensors(t);
  CHECK(large_tensor_bytes(t) < before);
  CHECK(t.uncached.forward.layers[layer].pooled.empty());
  CHECK(t.uncached.forward.layers[layer].newest_attention.empty());
  restore_large_tensors(t, session.recompute_step(1));
  CHECK(large_tensor_bytes(t) == before);
  CHECK(t.uncached.forward.layers[layer].pooled.max[0] == session.history()[1].uncached.forward.layers[layer].pooled.max[0]);
}
