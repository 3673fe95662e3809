#pragma once
// Figure: one number as it is shown (in a caption, a lesson line, a panel), declared by the code that
// writes it: what it is, its value, the text that shows it and what identifies it. The window lists the
// figures it draws each frame (the --state-file "figures" ledger); a test holds each against the trace
// of the same step and finds every number drawn in some figure's text.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvscope {

struct Figure {
  std::string quantity;  // "rows_held", "cache_bytes", "kl", "macs", "positions", "position", "layer"...
  double value = 0.0;
  std::string text;  // the characters that show it: "1.28 kB", "6 rows", "t=4"
  nlohmann::json context = nlohmann::json::object();  // {"layer": 0}, {"mode": "cached"}, {"model": "loaded"}
};

// Collects figures while a text is written: note() returns the text it declares, so a sentence is
// composed and declared in one expression: s += figures.note("rows_redundant", n, plural(n, ...)).
class FigureLog {
 public:
  std::string note(const char* quantity, double value, std::string text,
                   nlohmann::json context = nlohmann::json::object()) {
    figures_.push_back({quantity, value, text, std::move(context)});
    return text;
  }
  std::vector<Figure>& figures() { return figures_; }
  const std::vector<Figure>& figures() const { return figures_; }
  void append(const std::vector<Figure>& more) { figures_.insert(figures_.end(), more.begin(), more.end()); }

 private:
  std::vector<Figure> figures_;
};

}  // namespace kvscope
