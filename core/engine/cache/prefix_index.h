#pragma once
// PrefixIndex: which pool block already holds the K/V rows of a full block of tokens at the start of a
// sequence, so a new sequence with the same prefix shares it instead of computing it again (vLLM's
// automatic prefix caching, which hashes each block's tokens together with its prefix's hash). A block's
// rows depend on every token before it, so the key is the block's tokens plus the block holding the
// tokens before them (-1 for the first block): the chain of keys is the whole prefix. Exact token
// vectors stand in for the hash: no collisions to explain.
#include <map>
#include <utility>
#include <vector>

namespace kvscope {

class PrefixIndex {
 public:
  // The block holding `tokens` (one block's worth) right after block `parent` (-1: at position 0), or -1.
  int find(int parent, const std::vector<int>& tokens) const;
  // Records `block` as holding `tokens` after `parent`. Keeps the first block recorded for a key.
  void add(int parent, const std::vector<int>& tokens, int block);
  // The block was freed or is about to be overwritten: its rows no longer hold that prefix.
  void remove_block(int block);
  bool contains_block(int block) const { return key_of_.count(block) > 0; }
  int size() const { return int(block_of_.size()); }

 private:
  using Key = std::pair<int, std::vector<int>>;
  std::map<Key, int> block_of_;
  std::map<int, Key> key_of_;
};

}  // namespace kvscope
