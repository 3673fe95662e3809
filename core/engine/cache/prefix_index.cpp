#include "core/engine/cache/prefix_index.h"

namespace kvscope {

int PrefixIndex::find(int parent, const std::vector<int>& tokens) const {
  const auto it = block_of_.find(Key(parent, tokens));
  return it == block_of_.end() ? -1 : it->second;
}

void PrefixIndex::add(int parent, const std::vector<int>& tokens, int block) {
  if (contains_block(block)) return;
  Key key(parent, tokens);
  if (block_of_.count(key)) return;  // the same prefix computed twice (same round): keep the first
  block_of_[key] = block;
  key_of_[block] = std::move(key);
}

void PrefixIndex::remove_block(int block) {
  const auto it = key_of_.find(block);
  if (it == key_of_.end()) return;
  block_of_.erase(it->second);
  key_of_.erase(it);
}

}  // namespace kvscope
