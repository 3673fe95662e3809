// Rotary positions: one K row of the chosen layer and KV head, before and after rotation, as a dial per
// pair of dimensions (j, j + d_head/2): the pair before (hollow arrow), as cached (filled arrow), and
// the angle it turned, which is position × θ_j — large for the fast pairs, tiny for the slow ones.
// Every vector and angle is read from the step's trace (core/lessons/rotary_pairs.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/lessons/rotary_pairs.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

constexpr float kPi = 3.14159265f;

// The row shown: the hovered position when a mode of this step computed it, else the newest.
RotaryRow shown_row(const PanelContext& c) {
  const int kv_head = c.trace->kv_head_of(c.ui->head);
  if (c.view->hover_position >= 0) {
    RotaryRow hovered = rotary_row(*c.config, *c.trace, c.ui->layer, kv_head, c.view->hover_position);
    if (hovered.found) return hovered;
  }
  return rotary_row(*c.config, *c.trace, c.ui->layer, kv_head, c.trace->newest_position());
}

void arrow(ImDrawList* dl, ImVec2 from, ImVec2 to, ImU32 color, float thickness, bool filled_head) {
  dl->AddLine(from, to, color, thickness);
  const float dx = to.x - from.x, dy = to.y - from.y, len = std::sqrt(dx * dx + dy * dy);
  if (len < 1.0f) return;
  const float ux = dx / len, uy = dy / len, head = std::min(len * 0.45f, thickness * 4.0f);
  const ImVec2 a(to.x - ux * head - uy * head * 0.6f, to.y - uy * head + ux * head * 0.6f);
  const ImVec2 b(to.x - ux * head + uy * head * 0.6f, to.y - uy * head - ux * head * 0.6f);
  if (filled_head) dl->AddTriangleFilled(to, a, b, color);
  else dl->AddTriangle(to, a, b, color, thickness * 0.8f);
}

// One pair: circle, the vector before (hollow head, muted) and after (filled head), the arc between.
void draw_dial(PanelContext& c, ImVec2 centre, float radius, float scale, const RotaryPair& p) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddCircle(centre, radius, c.pal->border, 48, 1.5f);
  dl->AddLine(ImVec2(centre.x - radius, centre.y), ImVec2(centre.x + radius, centre.y), c.pal->border);
  auto tip = [&](float x, float y) { return ImVec2(centre.x + x / scale * radius, centre.y - y / scale * radius); };
  const float before = std::atan2(p.before_y, p.before_x);
  const float r_arc = radius * 0.35f;
  // The arc from before to after (screen y points down, so angles flip sign).
  dl->PathArcTo(centre, r_arc, -before, -(before + float(p.turned)), 24);
  dl->PathStroke(c.pal->text, 0, 2.0f);
  arrow(dl, centre, tip(p.before_x, p.before_y), c.pal->text_muted, 2.0f, false);
  arrow(dl, centre, tip(p.after_x, p.after_y), c.pal->text, 3.0f, true);
}

}  // namespace

bool rotation_view_available(const PanelContext& c) { return c.trace && c.config->rotary(); }

void draw_rotation_panel(PanelContext& c, float height) {
  const drawn::PanelScope scope(c.record, "rotation");
  const RotaryRow row = shown_row(c);
  ImGui::PushFont(c.fonts->title);
  drawn::Text("Rotary positions: K of position %s %s, %s, %s \xE2\x80\x94 before and after rotation",
              drawn::figure("position", row.position, std::to_string(row.position)).c_str(), token_label(*c.trace, row.position).c_str(),
              drawn::figure("layer", row.layer, "layer " + std::to_string(row.layer)).c_str(),
              drawn::figure("kv_head", row.kv_head, "KV head " + std::to_string(row.kv_head)).c_str());
  ImGui::PopFont();
  if (!row.found) {
    drawn::TextWrapped("This step's trace does not hold that row (hover a position the uncached pane computed).");
    return;
  }
  const float th = ImGui::GetTextLineHeight(), lh = line_height();
  // Left: the dials, at most 16 (every pair for small heads, an even sample of a real model's 64).
  // Right: the key to the arrows and what the rotation means for the cache.
  const int n_pairs = int(row.pairs.size());
  const int n = std::min(n_pairs, 16);
  const ImVec2 top = ImGui::GetCursorScreenPos();
  const float width = ImGui::GetContentRegionAvail().x;
  const float dials_w = width * 0.62f, cell = dials_w / float(n);
  const float below_title = height - (top.y - ImGui::GetWindowPos().y) - ImGui::GetStyle().WindowPadding.y;
  const float radius = std::max(th * 0.6f, std::min(cell * 0.42f, (below_title - lh * 2.0f) * 0.5f));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (int k = 0; k < n; ++k) {
    const int j = n == n_pairs ? k : int(std::lround(double(k) * (n_pairs - 1) / (n - 1)));
    const RotaryPair& p = row.pairs[std::size_t(j)];
    const float cx = top.x + cell * (float(k) + 0.5f);
    char label[32];
    std::snprintf(label, sizeof label, "%s", drawn::figure("pair", j, "pair " + std::to_string(j)).c_str());
    drawn::AddText(dl, ImVec2(cx - ImGui::CalcTextSize(label).x * 0.5f, top.y), c.pal->text, label);
    // Each dial on its own length scale: a rotation keeps the length, the direction is the point.
    const float length = std::max({1e-12f, std::hypot(p.before_x, p.before_y), std::hypot(p.after_x, p.after_y)});
    draw_dial(c, ImVec2(cx, top.y + lh + radius), radius, length, p);
    char angle[32];
    // The measured turn, counted in whole turns as position × θ_j says (458°, not 98°: it grows with the position).
    const double turns = std::round((double(row.position) * p.radians_per_position - p.turned) / (2.0 * double(kPi)));
    const double degrees = (p.turned + turns * 2.0 * double(kPi)) * 180.0 / double(kPi);
    std::snprintf(angle, sizeof angle, "%s",
                  drawn::figure("turned_degrees", degrees, drawn::format(std::abs(degrees) < 9.95 ? "%.1f" : "%.0f", degrees),
                                {{"layer", row.layer}, {"kv_head", row.kv_head}, {"position", row.position}, {"pair", j}})
                      .c_str());
    std::strcat(angle, "\xC2\xB0");
    drawn::AddText(dl, ImVec2(cx - ImGui::CalcTextSize(angle).x * 0.5f, top.y + lh + radius * 2.0f + th * 0.15f), c.pal->text,
                angle);
    const ImVec2 a(cx - cell * 0.5f, top.y), b(cx + cell * 0.5f, top.y + lh * 2.0f + radius * 2.0f);
    if (ImGui::IsMouseHoveringRect(a, b)) {
      drawn::figure("full_turn", 2.0 * double(kPi), "2\xCF\x80");  // "mod 2π": a constant, in radians
      drawn::SetTooltip("%s (dimensions %s and %s): turned %s rad = %s \xC3\x97 %s rad (mod 2\xCF\x80)\n"
                        "before (%s, %s) \xE2\x86\x92 cached (%s, %s)",
                        drawn::figure("pair", j, "pair " + std::to_string(j)).c_str(),
                        drawn::figure("dimension", j, std::to_string(j)).c_str(),
                        drawn::figure("dimension", j + n_pairs, std::to_string(j + n_pairs)).c_str(),
                        drawn::figure("turned_radians", p.turned, drawn::format("%+.4f", p.turned)).c_str(),
                        drawn::figure("position", row.position, std::to_string(row.position)).c_str(),
                        drawn::figure("radians_per_position", p.radians_per_position, drawn::format("%.5f", p.radians_per_position)).c_str(),
                        drawn::figure("key_value", p.before_x, drawn::format("%.3f", double(p.before_x))).c_str(),
                        drawn::figure("key_value", p.before_y, drawn::format("%.3f", double(p.before_y))).c_str(),
                        drawn::figure("key_value", p.after_x, drawn::format("%.3f", double(p.after_x))).c_str(),
                        drawn::figure("key_value", p.after_y, drawn::format("%.3f", double(p.after_y))).c_str());
    }
  }
  const float text_x = top.x + dials_w + th;
  ImGui::SetCursorScreenPos(ImVec2(text_x, top.y));
  ImGui::BeginGroup();
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + (top.x + width - text_x));
  const ImVec2 k1 = ImGui::GetCursorScreenPos();
  arrow(dl, ImVec2(k1.x, k1.y + th * 0.5f), ImVec2(k1.x + th * 1.5f, k1.y + th * 0.5f), c.pal->text_muted, 2.0f, false);
  ImGui::Dummy(ImVec2(th * 1.6f, th));
  ImGui::SameLine();
  drawn::TextUnformatted("before rotation");
  const ImVec2 k2 = ImGui::GetCursorScreenPos();
  arrow(dl, ImVec2(k2.x, k2.y + th * 0.5f), ImVec2(k2.x + th * 1.5f, k2.y + th * 0.5f), c.pal->text, 3.0f, true);
  ImGui::Dummy(ImVec2(th * 1.6f, th));
  ImGui::SameLine();
  drawn::Text("as cached: turned by %s \xC3\x97 \xCE\xB8 (\xCE\xB8 %s \xE2\x80\xA6 %s rad)",
              drawn::figure("position", row.position, std::to_string(row.position)).c_str(),
              drawn::figure("radians_per_position", row.pairs.front().radians_per_position,
                            drawn::format("%.2g", row.pairs.front().radians_per_position)).c_str(),
              drawn::figure("radians_per_position", row.pairs.back().radians_per_position,
                            drawn::format("%.2g", row.pairs.back().radians_per_position)).c_str());
  drawn::TextWrapped("The cache stores K after rotation: a cached key already carries its position. A query at m is "
                     "turned by m \xC3\x97 \xCE\xB8 too, so its score with the key at n depends only on m \xE2\x88\x92 n. "
                     "Hover a row above to show its key.");
  ImGui::PopTextWrapPos();
  ImGui::EndGroup();
}

}  // namespace kvscope::gui
