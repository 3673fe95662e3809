// Same word, two positions: the repeated word's K and V rows side by side in every layer (all heads,
// viridis strips, one colour scale per pair), their cosine similarity and largest difference, and
// layer 0's input difference next to the position-embedding difference it equals (learned positions)
// or the rotation that tells the keys apart (rotary). Every value is a field of the step's
// SameWordCheck (core/lesson_checks.h).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

float scale_of(const RowVector& a, const RowVector& b) {
  return std::max(a.size() ? a.cwiseAbs().maxCoeff() : 0.0f, b.size() ? b.cwiseAbs().maxCoeff() : 0.0f);
}

// "K  3 [strip]  cosine 0.853" then "   6 [strip]  max |Δ| 0.841".
void draw_pair(PanelContext& c, const char* what, int first, int second, const RowVector& a, const RowVector& b,
               float cosine, float max_diff, float width) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float th = ImGui::GetTextLineHeight(), lh = line_height();
  const float label_w = ImGui::CalcTextSize("K  00 ").x;
  const float stats_w = ImGui::CalcTextSize("max |\xCE\x94| 0.000 ").x;
  const float strip_w = std::max(th * 3.0f, width - label_w - stats_w - th);
  const float scale = scale_of(a, b);
  char stats[2][48];
  const char* quantity[2] = {what[0] == 'K' ? "key_cosine" : "value_cosine", what[0] == 'K' ? "key_max_diff" : "value_max_diff"};
  std::snprintf(stats[0], sizeof stats[0], "cosine %s", drawn::figure(quantity[0], cosine, drawn::format("%.3f", double(cosine))).c_str());
  std::snprintf(stats[1], sizeof stats[1], "max |\xCE\x94| %s",
                drawn::figure(quantity[1], max_diff, drawn::format("%.3f", double(max_diff))).c_str());
  const RowVector* rows[2] = {&a, &b};
  const int positions[2] = {first, second};
  for (int i = 0; i < 2; ++i) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    char label[32];
    std::snprintf(label, sizeof label, "%s  %s", i ? " " : what, drawn::figure("position", positions[i], std::to_string(positions[i])).c_str());
    drawn::AddText(dl, ImVec2(p.x, p.y), c.pal->text, label);
    draw_value_strip(c, dl, ImVec2(p.x + label_w, p.y + th * 0.1f), ImVec2(strip_w, th * 0.8f), rows[i]->data(),
                     int(rows[i]->size()), scale, false);
    drawn::AddText(dl, ImVec2(p.x + label_w + strip_w + th * 0.5f, p.y), c.pal->text, stats[i]);
    ImGui::Dummy(ImVec2(width, lh - ImGui::GetStyle().ItemSpacing.y));
  }
}

// Rotary: no position vector to show. Instead, in a column of its own (width w): layer 0's two K rows
// before rotation, equal, beside the cached ones the layer column shows turned apart; then the scores
// that make the point: the same inputs at the same distance score the same wherever they sit, another
// distance scores differently.
void draw_rotary_evidence(PanelContext& c, const SameWordCheck& s, float w) {
  const float th = ImGui::GetTextLineHeight(), lh = line_height();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const std::string p1 = drawn::figure("position", s.first, std::to_string(s.first));
  const std::string p2 = drawn::figure("position", s.second, std::to_string(s.second));
  drawn::Text("K before rotation, %s, and the scores q\xC2\xB7k/sqrt(d) of query %s",
              drawn::figure("layer", 0, "layer 0").c_str(), drawn::figure("head", 0, "head 0").c_str());
  const float pos_w = ImGui::CalcTextSize("00 ").x;
  const std::string stats = "max |\xCE\x94| " +
                            drawn::figure("unrotated_max_diff", s.unrotated_max_diff, drawn::format("%.3f", double(s.unrotated_max_diff))) +
                            (s.unrotated_max_diff < 1e-4f ? " (equal)" : "");
  const float strip_w = std::max(th * 2.0f, (w - 2 * pos_w - ImGui::CalcTextSize(stats.c_str()).x - th * 1.5f) * 0.5f);
  const float scale = scale_of(s.key_unrotated_first, s.key_unrotated_second);
  ImVec2 p = ImGui::GetCursorScreenPos();
  float x = p.x;
  for (int i = 0; i < 2; ++i) {
    drawn::AddText(dl, ImVec2(x, p.y), c.pal->text, i ? p2 : p1);
    const RowVector& row = i ? s.key_unrotated_second : s.key_unrotated_first;
    draw_value_strip(c, dl, ImVec2(x + pos_w, p.y + th * 0.1f), ImVec2(strip_w, th * 0.8f), row.data(), int(row.size()), scale, false);
    x += pos_w + strip_w + th * 0.5f;
  }
  drawn::AddText(dl, ImVec2(x, p.y), c.pal->text, stats);
  ImGui::Dummy(ImVec2(w, lh - ImGui::GetStyle().ItemSpacing.y));
  if (!s.relative_checked) return;
  // Scores as bars from a zero line, one scale for the three.
  const double scores[3] = {s.score_first, s.score_second, s.score_across};
  const int queries[3] = {s.first, s.second, s.second}, keys[3] = {s.first, s.second, s.first};
  double largest = 1e-9;
  for (double v : scores) largest = std::max(largest, std::abs(v));
  const float text_w = ImGui::CalcTextSize("q@00\xC2\xB7k@00 = -0.0000 (distance 00) ").x;
  const float bar_half = std::max(th, (w - text_w) * 0.5f - th * 0.5f);
  for (int i = 0; i < 3; ++i) {
    p = ImGui::GetCursorScreenPos();
    const int distance = queries[i] - keys[i];
    drawn::AddText(dl, p, c.pal->text,
                   "q@" + drawn::figure("position", queries[i], std::to_string(queries[i])) + "\xC2\xB7k@" +
                       drawn::figure("position", keys[i], std::to_string(keys[i])) + " = " +
                       drawn::figure("score", scores[i], drawn::format("%.4f", scores[i]), {{"query", queries[i]}, {"key", keys[i]}}) +
                       " (distance " + drawn::figure("distance", distance, std::to_string(distance)) + ")");
    const float zero = p.x + text_w + bar_half;
    const float end = zero + float(scores[i] / largest) * bar_half;
    dl->AddLine(ImVec2(zero, p.y), ImVec2(zero, p.y + th), c.pal->text, 1.5f);
    dl->AddRectFilled(ImVec2(std::min(zero, end), p.y + th * 0.2f), ImVec2(std::max(zero, end), p.y + th * 0.8f),
                      distance == 0 ? c.pal->series_cached : c.pal->series_uncached);
    ImGui::Dummy(ImVec2(w, lh - ImGui::GetStyle().ItemSpacing.y));
  }
}

}  // namespace

bool same_word_view_available(const Lesson& lesson, const LessonReport* report) {
  return report && lesson.kind == LessonKind::SameWord && report->same_word.found;
}

bool same_word_view_available(const PanelContext& c) { return same_word_view_available(*c.lesson, c.report); }

void draw_same_word_panel(PanelContext& c, float) {
  const drawn::PanelScope scope(c.record, "same_word");
  const SameWordCheck& s = c.report->same_word;
  ImGui::PushFont(c.fonts->title);
  const int kv_heads = c.config->kv_heads();
  drawn::Text("Two cache rows for '%s': positions %s and %s (all %s KV head%s, \xE2\x88\x92 to + per pair)",
              drawn::figure("token", s.token_id, s.word).c_str(), drawn::figure("position", s.first, std::to_string(s.first)).c_str(),
              drawn::figure("position", s.second, std::to_string(s.second)).c_str(),
              drawn::figure("kv_heads", kv_heads, std::to_string(kv_heads)).c_str(), kv_heads == 1 ? "" : "s");
  ImGui::PopFont();
  // Rotary: layer 0's column, then the evidence that position entered by rotation (deeper layers'
  // numbers are in kvscope-cli's lines); learned positions: a column per layer.
  const int n = s.rotary ? 1 : int(s.layers.size());
  const int columns = s.rotary ? 2 : n;
  const float gap = ImGui::GetStyle().ItemSpacing.x * 3.0f;
  const float col_w = (ImGui::GetContentRegionAvail().x - gap * float(columns - 1)) / float(std::max(1, columns));
  const float top = ImGui::GetCursorPosY();
  float bottom = top;
  if (s.rotary) {
    ImGui::SetCursorPos(ImVec2(ImGui::GetStyle().WindowPadding.x + col_w + gap, top));
    ImGui::BeginGroup();
    draw_rotary_evidence(c, s, col_w);
    ImGui::EndGroup();
    bottom = std::max(bottom, ImGui::GetCursorPosY());
  }
  for (int i = 0; i < n; ++i) {
    const RowPairCheck& l = s.layers[std::size_t(i)];
    ImGui::SetCursorPos(ImVec2(ImGui::GetStyle().WindowPadding.x + float(i) * (col_w + gap), top));
    ImGui::BeginGroup();
    drawn::Text("%s", drawn::figure("layer", l.layer, "Layer " + std::to_string(l.layer)).c_str());
    draw_pair(c, "K", s.first, s.second, l.key_first, l.key_second, l.key_cosine, l.key_max_diff, col_w);
    draw_pair(c, "V", s.first, s.second, l.value_first, l.value_second, l.value_cosine, l.value_max_diff, col_w);
    ImGui::EndGroup();
    bottom = std::max(bottom, ImGui::GetCursorPosY());
  }
  ImGui::SetCursorPosY(bottom);
  if (s.rotary) return;
  ImGui::Separator();
  drawn::figure("layer", 0, "Layer 0");  // layer 0's inputs, below
  drawn::figure("position", s.first, std::to_string(s.first));
  drawn::figure("position", s.second, std::to_string(s.second));
  // Layer 0's inputs: their difference beside the position-embedding difference (one scale for both).
  const float th = ImGui::GetTextLineHeight();
  char left[64], right[64];
  std::snprintf(left, sizeof left, "Layer 0 input x%d \xE2\x88\x92 x%d", s.first, s.second);
  std::snprintf(right, sizeof right, "= wpe[%d] \xE2\x88\x92 wpe[%d] exactly", s.first, s.second);
  const float w = ImGui::GetContentRegionAvail().x;
  const float lw = ImGui::CalcTextSize(left).x + th * 0.5f, rw = ImGui::CalcTextSize(right).x + th * 0.5f;
  const float strip_w = std::max(th * 3.0f, (w - lw - rw - th) * 0.5f);
  const float scale = scale_of(s.input_diff, s.position_diff);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  drawn::AddText(dl, p, c.pal->text, left);
  draw_value_strip(c, dl, ImVec2(p.x + lw, p.y + th * 0.1f), ImVec2(strip_w, th * 0.8f), s.input_diff.data(),
                   int(s.input_diff.size()), scale, false);
  drawn::AddText(dl, ImVec2(p.x + lw + strip_w + th * 0.5f, p.y), c.pal->text, right);
  draw_value_strip(c, dl, ImVec2(p.x + lw + strip_w + th * 0.5f + rw, p.y + th * 0.1f), ImVec2(strip_w, th * 0.8f),
                   s.position_diff.data(), int(s.position_diff.size()), scale, false);
  ImGui::Dummy(ImVec2(w, th));
}

}  // namespace kvscope::gui
