// BlockPool and PagedCache: ids and reference counts, copy on write of exactly one block, rollback,
// and attention reading K/V through a block table with the contiguous cache's logits, bit for bit.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/engine/cache/block_pool.h"
#include "core/engine/cache/kv_cache.h"
#include "core/engine/cache/paged_cache.h"
#include "core/formats/model_source.h"

using namespace kvscope;

namespace {
int count_kind(const std::vector<BlockEvent>& events, BlockEventKind kind) {
  int n = 0;
  for (const BlockEvent& e : events) n += e.kind == kind;
  return n;
}

// Writes positions next..next+n-1 of every layer with rows whose floats say (layer, position).
void write_marked(PagedCache& cache, BlockPool& pool, int n, std::vector<BlockEvent>& events) {
  cache.reserve(n, events);
  std::vector<float> k(std::size_t(pool.row_dim())), v(std::size_t(pool.row_dim()));
  for (int l = 0; l < pool.n_layer(); ++l)
    for (int p = cache.next_position(); p < cache.next_position() + n; ++p) {
      std::fill(k.begin(), k.end(), float(1000 * l + p));
      std::fill(v.begin(), v.end(), float(-1000 * l - p));
      cache.write(l, p, k.data(), v.data());
    }
  cache.advance(n);
}
}  // namespace

TEST_CASE("block pool: lowest free id first, reference counts, free again at zero, full refused", "[paged]") {
  BlockPool pool(2, 8, 4, 3);
  CHECK(pool.blocks_free() == 3);
  CHECK(pool.allocate() == 0);
  CHECK(pool.allocate() == 1);
  CHECK(pool.retain(0) == 2);
  CHECK(pool.blocks_shared() == 1);
  CHECK(pool.blocks_in_use() == 2);
  CHECK(pool.release(0) == 1);
  CHECK(pool.release(0) == 0);
  CHECK(pool.blocks_free() == 2);
  CHECK(pool.allocate() == 0);  // 0 is the lowest free id again
  CHECK(pool.allocate() == 2);
  CHECK_THROWS_AS(pool.allocate(), PoolFullError);
  CHECK_THROWS_WITH(pool.allocate(), Catch::Contains("all 3 blocks"));
  CHECK(pool.bytes_per_row() == 2 * 2 * 8 * 4);
  CHECK_THROWS_AS(BlockPool(2, 8, 0, 3), UsageError);
  CHECK_THROWS_AS(BlockPool(2, 8, 4, 0), UsageError);
}

TEST_CASE("paged cache: a position lives in block table[p / B], slot p % B; blocks grow one per B positions", "[paged]") {
  BlockPool pool(2, 4, 3, 10);
  PagedCache cache(pool, 0);
  std::vector<BlockEvent> events;
  write_marked(cache, pool, 7, events);  // ceil(7 / 3) = 3 blocks
  REQUIRE(cache.block_table() == std::vector<int>{0, 1, 2});
  CHECK(count_kind(events, BlockEventKind::Allocate) == 3);
  CHECK(cache.rows_in_block(2) == 1);
  for (int l = 0; l < 2; ++l) {
    const KvLayerView view = cache.read_layer(l);
    for (int p = 0; p < 7; ++p) {
      CHECK(view.key_row(p)[0] == float(1000 * l + p));
      CHECK(view.value_row(p)[3] == float(-1000 * l - p));
      CHECK(view.key_row(p) == pool.key_row(l, cache.block_table()[std::size_t(p / 3)], p % 3));
    }
  }
  CHECK(cache.bytes_held() == 7 * pool.bytes_per_row());
  CHECK(cache.bytes_allocated() == 9 * pool.bytes_per_row());
}

TEST_CASE("paged cache: fork shares every block; the first write into the shared last block copies exactly it", "[paged]") {
  BlockPool pool(2, 4, 4, 10);
  PagedCache parent(pool, 0);
  std::vector<BlockEvent> events;
  write_marked(parent, pool, 6, events);  // blocks 0 (full) and 1 (2 of 4 rows)
  events.clear();
  PagedCache branch = parent.fork(1, events);
  CHECK(branch.block_table() == parent.block_table());
  CHECK(pool.ref_count(0) == 2);
  CHECK(pool.ref_count(1) == 2);
  CHECK(count_kind(events, BlockEventKind::Share) == 2);
  CHECK(pool.blocks_in_use() == 2);

  events.clear();
  write_marked(branch, pool, 1, events);
  REQUIRE(count_kind(events, BlockEventKind::CopyOnWrite) == 1);
  CHECK(count_kind(events, BlockEventKind::Allocate) == 0);
  CHECK(pool.blocks_copied() == 1);
  CHECK(pool.rows_copied() == 2);  // the filled rows of the partial block, nothing else
  CHECK(branch.block_table()[0] == 0);
  CHECK(branch.block_table()[1] == 2);
  CHECK(pool.ref_count(1) == 1);  // the parent's again alone: it writes in place
  CHECK(pool.ref_count(0) == 2);  // the full block stays shared
  for (int p = 0; p < 6; ++p) CHECK(branch.read_layer(1).key_row(p)[0] == float(1000 + p));

  events.clear();
  write_marked(parent, pool, 1, events);
  CHECK(events.empty());  // no copy, no new block
  CHECK(pool.blocks_copied() == 1);
}

TEST_CASE("paged cache: truncate lets go of the blocks past the position; the pool is full again at the end", "[paged]") {
  BlockPool pool(1, 2, 4, 6);
  std::vector<BlockEvent> events;
  {
    PagedCache a(pool, 0);
    write_marked(a, pool, 10, events);  // 3 blocks
    PagedCache b = a.fork(1, events);
    events.clear();
    CHECK(a.truncate(5, events) == 5);
    CHECK(a.block_table().size() == 2);  // ceil(5 / 4)
    CHECK(count_kind(events, BlockEventKind::Release) == 1);  // block 2 still held by b
    CHECK(count_kind(events, BlockEventKind::Free) == 0);
    events.clear();
    b.truncate(0, events);
    CHECK(count_kind(events, BlockEventKind::Free) == 1);  // block 2: b was its last holder
    CHECK(count_kind(events, BlockEventKind::Release) == 2);
    CHECK(pool.blocks_in_use() == 2);
  }  // a's destructor lets go of the rest
  CHECK(pool.blocks_free() == 6);
  for (int c : pool.ref_counts()) CHECK(c == 0);
}

TEST_CASE("paged attention: logits equal the contiguous cache's bit for bit, any block size, both families", "[paged]") {
  for (const char* preset : {"demo", "demo-llama"}) {
    const LoadedModel m = load_preset(preset);
    const ModelConfig& c = m.model->config();
    const std::vector<int> prompt = m.tokenizer->encode("Time flies fast when you are having fun");
    const int n_prompt = int(prompt.size());
    for (int b : {1, 3, 4, n_prompt + 1}) {
      INFO(preset << " block size " << b);
      // A pool whose free blocks are scattered among blocks of NaN: a row read from anywhere but the
      // block table's slot poisons the logits.
      BlockPool pool(c.n_layer, c.kv_dim(), b, 40);
      for (int i = 0; i < 40; ++i) {
        const int block = pool.allocate();
        for (int l = 0; l < c.n_layer; ++l)
          for (int slot = 0; slot < b; ++slot)
            for (int x = 0; x < c.kv_dim(); ++x)
              pool.key_row(l, block, slot)[x] = pool.value_row(l, block, slot)[x] = std::nanf("");
      }
      for (int i = 0; i < 20; ++i) pool.release((7 * i + 3) % 40);
      PagedCache paged(pool, 0);
      KvCache contiguous(c, 0);
      std::vector<BlockEvent> events;
      RowVector want, got;
      std::vector<int> feed = prompt;
      for (int step = 0; step < 6; ++step) {
        m.model->forward_cached(feed, contiguous, 0, want, nullptr);
        paged.reserve(int(feed.size()), events);
        m.model->forward_cached(feed, paged, 0, got, nullptr);
        REQUIRE(got.size() == c.vocab_size);
        CHECK(got == want);  // same rows, same order of sums: identical floats
        Eigen::Index best = 0;
        want.maxCoeff(&best);
        feed = {int(best)};
      }
      CHECK(paged.next_position() == n_prompt + 5);
      CHECK(int(paged.block_table().size()) == (n_prompt + 5 + b - 1) / b);
      REQUIRE(paged.block_table().size() >= 2);
      CHECK(paged.block_table()[1] == 2);  // free ids 0, 2, 3, 5, ...: block k is not at k
    }
  }
}
