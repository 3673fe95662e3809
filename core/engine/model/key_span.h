#pragma once
// The one window rule: the keys a query may see, and so the rows a windowed layer or cache holds.
#include <algorithm>

namespace kvscope {

// Key positions first..last (inclusive) that one query row may attend to.
struct KeySpan {
  int first = 0, last = -1;
  int size() const { return last - first + 1; }
  bool contains(int key) const { return key >= first && key <= last; }
};

// Keys a query at position pos may see: causal, and the newest `window` of them when window > 0 (Hugging
// Face's sliding_window, itself included). A cache bounded by W holds visible_span(newest, W) between steps.
inline KeySpan visible_span(int pos, int window) { return {window > 0 ? std::max(0, pos - window + 1) : 0, pos}; }

}  // namespace kvscope
