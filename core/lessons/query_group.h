#pragma once
// GQA seen from the cache: the query heads that share one KV head, side by side, each with its newest
// query's attention over the one set of K/V rows they all read. The same rows, weighted differently by
// each head: why sharing K and V costs less than it seems. Read from a step's cached-mode trace.
#include <string>
#include <vector>

#include "core/engine/session/trace.h"
#include "core/lessons/figure.h"

namespace kvscope {

struct QueryHeadReads {
  int head = 0;
  std::vector<float> weights;  // per QueryGroupReads::positions: the newest query's attention weight
  double weight_sum = 0.0;     // over those positions (1 up to rounding: every weight it gave is here)
};

struct QueryGroupReads {
  bool available = false;  // a cached-mode trace with attention recorded, and the layer / KV head exist
  int layer = 0, kv_head = 0;
  int query_position = 0;      // the newest query
  std::vector<int> positions;  // the K/V rows of this KV head the newest query read, ascending
  std::vector<QueryHeadReads> heads;  // the query heads of the group, in order
  // Over the positions, the largest difference between two heads' weights: 0 would mean sharing K and V
  // also shared the attention, which it does not.
  double max_weight_gap = 0.0;
  std::vector<Figure> figures;  // the numbers the view writes, declared (its title line)
  std::string title;            // "KV head 1 (layer 0): its 5 rows, read by query heads 2 and 3 at position 4"
};

QueryGroupReads query_group_reads(const StepTrace& trace, int layer, int kv_head);

}  // namespace kvscope
