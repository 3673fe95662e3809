// A quantized cache's rows as stored (View menu, Q; the smaller_numbers lesson): for the oldest and the
// newest held position of the shown layer and KV head, the K and the V row as written, their codes,
// what a read returns, and the error of each value, with the (zero, scale) pairs they share. The
// numbers are the cache's own, recorded in the step's trace (PolicyTrace::stored); this file lays them out.
#include <algorithm>
#include <cmath>
#include <string>

#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

const PolicyTrace::StoredSample* sample_at(const PolicyTrace& p, int layer, int kv_head, bool newest) {
  const PolicyTrace::StoredSample* found = nullptr;
  for (const PolicyTrace::StoredSample& s : p.stored)
    if (s.layer == layer && s.kv_head == kv_head && (!found || (newest ? s.position > found->position : s.position < found->position)))
      found = &s;
  return found;
}

// "0.012–0.034": the range of a row of pairs' scales (one number when they agree).
std::string range_text(const std::vector<float>& v, const char* format) {
  if (v.empty()) return "";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  const std::string a = drawn::format(format, double(*lo)), b = drawn::format(format, double(*hi));
  return a == b ? a : a + "\xE2\x80\x93" + b;
}

// One row: written, codes, read back, |error|, as four strips, then its numbers.
void draw_stored_row(PanelContext& c, const char* what, int position, const std::vector<float>& written,
                     const std::vector<int>& codes, const std::vector<float>& read, int levels, const std::string& pairs,
                     const nlohmann::json& context, float strip_w, float label_w) {
  const float th = ImGui::GetTextLineHeight(), lh = line_height();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const int n = int(written.size());
  drawn::AddText(dl, p, c.pal->text, std::string(what) + " @" + drawn::figure("position", position, std::to_string(position)));
  float scale = 0.0f, worst = 0.0f;
  std::vector<float> error(static_cast<std::size_t>(n)), code_values(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    scale = std::max({scale, std::abs(written[std::size_t(i)]), std::abs(read[std::size_t(i)])});
    error[std::size_t(i)] = std::abs(read[std::size_t(i)] - written[std::size_t(i)]);
    worst = std::max(worst, error[std::size_t(i)]);
    // Codes 0..levels-1 drawn on the same diverging colours, centred: the middle code is the middle colour.
    code_values[std::size_t(i)] = codes.empty() ? 0.0f : float(codes[std::size_t(i)]) - float(levels - 1) * 0.5f;
  }
  float x = p.x + label_w;
  const float y = p.y + th * 0.1f, h = th * 0.8f;
  draw_value_strip(c, dl, ImVec2(x, y), ImVec2(strip_w, h), written.data(), n, scale, false);
  x += strip_w + th * 0.5f;
  if (codes.empty())
    drawn::AddText(dl, ImVec2(x, p.y), c.pal->text_muted, "fp16, no codes yet");
  else
    draw_value_strip(c, dl, ImVec2(x, y), ImVec2(strip_w, h), code_values.data(), n, float(levels - 1) * 0.5f, false);
  x += strip_w + th * 0.5f;
  draw_value_strip(c, dl, ImVec2(x, y), ImVec2(strip_w, h), read.data(), n, scale, false);
  x += strip_w + th * 0.5f;
  draw_value_strip(c, dl, ImVec2(x, y), ImVec2(strip_w, h), error.data(), n, std::max(worst, 1e-12f), false);
  x += strip_w + th * 0.5f;
  nlohmann::json at = context;
  at["position"] = position;
  drawn::AddText(dl, ImVec2(x, p.y), c.pal->text,
                 "max |\xCE\x94| " + drawn::figure("max_abs_error", worst, drawn::format("%.1e", double(worst)), at) + " \xC2\xB7 " + pairs);
  ImGui::Dummy(ImVec2(1, lh - ImGui::GetStyle().ItemSpacing.y));
}

}  // namespace

bool quantized_view_available(const PanelContext& c) {
  return c.trace && c.trace->cached.policy.active && !c.trace->cached.policy.stored.empty();
}

void draw_quantized_panel(PanelContext& c, float) {
  const drawn::PanelScope scope(c.record, "quantized");
  const PolicyTrace& p = c.trace->cached.policy;
  const int layer = c.ui->layer, kv_head = c.trace->kv_head_of(c.ui->head);
  const PolicyTrace::StoredSample* oldest = sample_at(p, layer, kv_head, false);
  const PolicyTrace::StoredSample* newest = sample_at(p, layer, kv_head, true);
  ImGui::PushFont(c.fonts->title);
  drawn::Text("How %s stores %s, %s: the oldest and the newest row it holds", drawn::figure("policy_spec", 0, p.spec).c_str(),
              drawn::figure("layer", layer, "layer " + std::to_string(layer)).c_str(),
              drawn::figure("kv_head", kv_head, "KV head " + std::to_string(kv_head)).c_str());
  ImGui::PopFont();
  if (!oldest || !newest) {
    drawn::TextWrapped("This step recorded no stored rows for this layer and KV head.");
    return;
  }
  const int levels = 1 << oldest->row.bits;  // the quantizer's own, not read back from the spec string
  const float th = ImGui::GetTextLineHeight();
  const float label_w = ImGui::CalcTextSize("K @000 ").x;
  // The numbers after the strips take what their longest line needs; the strips share the rest.
  const float numbers_w = ImGui::CalcTextSize("max |\xCE\x94| 0.0e-00 \xC2\xB7 scales 0.0000\xE2\x80\x93" "0.0000 per channel (000\xE2\x80\x93" "000)").x;
  const float strip_w = std::max(th * 3.0f, (ImGui::GetContentRegionAvail().x - label_w - numbers_w - th * 2.0f) / 4.0f);
  // Column titles.
  const float x0 = ImGui::GetCursorPosX();
  const char* titles[4] = {"as written (float32)", "codes", "as read back", "|error| per value"};
  for (int i = 0; i < 4; ++i) {
    if (i) ImGui::SameLine(x0 + label_w + (strip_w + th * 0.5f) * float(i));
    else ImGui::SetCursorPosX(x0 + label_w);
    if (i == 1)
      drawn::TextDisabled("codes (%s levels)", drawn::figure("levels", levels, std::to_string(levels)).c_str());
    else
      drawn::TextDisabled("%s", titles[i]);
  }
  const nlohmann::json at = {{"layer", layer}, {"kv_head", kv_head}};
  for (const PolicyTrace::StoredSample* s : {oldest, newest}) {
    if (s == newest && newest == oldest) break;
    const StoredRow& r = s->row;
    const std::string group = drawn::figure("position", r.key_group_first, position_range(r.key_group_first, r.key_group_last));
    const std::string key_pairs =
        r.key_coded ? "scales " + drawn::figure("key_scale", r.key_scales.empty() ? 0.0 : double(r.key_scales.front()),
                                                 range_text(r.key_scales, "%.4f"), at) +
                          " per channel (" + group + ")"
                    : "waits in fp16 until " + group + " fill";
    draw_stored_row(c, "K", s->position, r.key_written, r.key_codes, r.key_read, levels, key_pairs, at, strip_w, label_w);
    const std::string value_pairs = "scale " + drawn::figure("value_scale", r.value_scale, drawn::format("%.4f", double(r.value_scale)), at) +
                                    ", zero " + drawn::figure("value_zero", r.value_zero, drawn::format("%.3f", double(r.value_zero)), at) +
                                    " for the row";
    draw_stored_row(c, "V", s->position, r.value_written, r.value_codes, r.value_read, levels, value_pairs, at, strip_w, label_w);
  }
  drawn::TextWrapped("A value x is stored as code round((x \xE2\x88\x92 zero) / scale) and read back as zero + code \xC3\x97 scale: "
                     "within half a scale of x. Strips: blue to yellow, \xE2\x88\x92 to +; errors 0 to their largest.");
}

}  // namespace kvscope::gui
