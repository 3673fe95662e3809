// The cache-size calculator: bytes = 2 x layers x KV heads x head dim x tokens x bytes per value for
// the loaded model or a well-known shape, in fp32 / bf16 / fp8; MHA, GQA and MQA side by side; a plot
// over context length; and, for the loaded model, the bytes the engine reports for the step shown.
// The arithmetic is core/cache_calculator.h (no model runs); this file only draws it.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/lessons/caption.h"
#include "gui/panels/line_chart.h"

namespace kvscope::gui {

namespace {

// The most positions any layer holds (a local layer holds only its window; a global one every position).
int held_positions(const PanelContext& c) {
  if (!c.trace || !c.trace->cached.ran) return 0;
  std::size_t held = 0;
  for (const LayerRecord& l : c.trace->cached.forward.layers) held = std::max(held, l.held_rows.size());
  return int(held);
}

CacheShape chosen_shape(const PanelContext& c) {
  if (c.ui->calc_shape != "loaded")
    for (const CacheShape& s : known_cache_shapes())
      if (s.name == c.ui->calc_shape) return s;
  return loaded_cache_shape(*c.config, c.model_name);
}

void draw_controls(PanelContext& c, const CacheShape& shape) {
  ImGui::AlignTextToFramePadding();
  drawn::TextUnformatted("Model");
  ImGui::SameLine();
  // As wide as the longest choice, so the one shown is never cut (within half the panel: the dtypes
  // and the token slider share the line).
  const CacheShape loaded = loaded_cache_shape(*c.config, c.model_name);
  float widest = ImGui::CalcTextSize(loaded.label.c_str()).x;
  for (const CacheShape& s : known_cache_shapes()) widest = std::max(widest, ImGui::CalcTextSize(s.label.c_str()).x);
  ImGui::SetNextItemWidth(std::min(widest + ImGui::GetFrameHeight() * 1.5f, ImGui::GetContentRegionAvail().x * 0.5f));
  if (ImGui::BeginCombo("##shape", shape.label.c_str())) {
    if (ImGui::Selectable(loaded.label.c_str(), shape.name == "loaded"))
      push_action(c, ActionType::SetCalculatorShape, 0, "loaded");
    for (const CacheShape& s : known_cache_shapes())
      if (ImGui::Selectable(s.label.c_str(), s.name == shape.name))
        push_action(c, ActionType::SetCalculatorShape, 0, s.name);
    ImGui::EndCombo();
  }
  for (int i = 0; i < int(kv_dtypes().size()); ++i) {
    ImGui::SameLine();
    if (ImGui::RadioButton(kv_dtypes()[std::size_t(i)].name, c.ui->calc_dtype == i))
      push_action(c, ActionType::SetCalculatorDtype, i);
  }
  ImGui::SameLine();
  drawn::TextUnformatted("Tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  int tokens = c.ui->calc_tokens > 0 ? c.ui->calc_tokens : std::max(1, held_positions(c));
  if (ImGui::SliderInt("##tokens", &tokens, 1, 131072, "%d", ImGuiSliderFlags_Logarithmic))
    push_action(c, ActionType::SetCalculatorTokens, tokens);
  drawn::Label(drawn::figure("positions", tokens, std::to_string(tokens), {{"scope", "calculator"}}));
}

// Rows MHA / GQA / MQA, columns fp32 / bf16 / fp8; the chosen cell outlined.
void draw_table(PanelContext& c, const CacheShape& shape, std::int64_t tokens, float width) {
  const std::vector<AttentionVariant> variants = attention_variants(shape);
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("sizes", 1 + int(kv_dtypes().size()), flags, ImVec2(width, 0))) return;
  ImGui::TableSetupColumn("attention (KV heads)");
  for (const KvDtypeInfo& d : kv_dtypes()) ImGui::TableSetupColumn(d.name);
  ImGui::TableHeadersRow();
  for (const AttentionVariant& v : variants) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    const nlohmann::json row = {{"model", v.name}, {"shape", shape.name}, {"positions", tokens}};
    drawn::Text("%s %s%s", v.name.c_str(), drawn::figure("kv_heads", v.n_kv_head, std::to_string(v.n_kv_head), row).c_str(),
                v.hypothetical ? "" : " \xE2\x9C\x93");
    for (int i = 0; i < int(kv_dtypes().size()); ++i) {
      ImGui::TableNextColumn();
      const KvDtypeInfo& d = kv_dtypes()[std::size_t(i)];
      nlohmann::json cell = row;
      cell["dtype"] = d.name;
      const std::int64_t value = kv_cache_bytes(shape, v, tokens, d.id);
      const std::string bytes = drawn::figure("cache_bytes", double(value), format_decimal_bytes(double(value)), cell);
      drawn::TextUnformatted(bytes.c_str());
      if (i == c.ui->calc_dtype && !v.hypothetical) {
        const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
        ImGui::GetWindowDrawList()->AddRect(ImVec2(a.x - 3, a.y - 2), ImVec2(b.x + 3, b.y + 2), c.pal->outline, 2, 0, 2.5f);
      }
    }
  }
  ImGui::EndTable();
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);  // within the table's width: the plot is beside it
  drawn::TextWrapped("\xE2\x9C\x93 the model's own layout; the other rows are what the same shape would need.");
  ImGui::PopTextWrapPos();
}

// 1, 2 or 5 times a power of ten, at least x: a round top for the y axis.
double nice_ceiling(double x) {
  if (x <= 0) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= x) return m * p;
  return 10.0 * p;
}

// Up to three lines, the shape's own layout always among them (then MHA and the others in order).
std::vector<AttentionVariant> plotted_variants(const CacheShape& shape) {
  std::vector<AttentionVariant> all = attention_variants(shape), out;
  for (const AttentionVariant& v : all)
    if (!v.hypothetical) out.push_back(v);
  for (const AttentionVariant& v : all)
    if (v.hypothetical && out.size() < 3) out.push_back(v);
  return out;
}

// Bytes over context length 0..tokens for up to three variants, the model's own among them (straight
// lines: the cache is linear in tokens), each labelled at its end with the bytes at the chosen length;
// the weights in the same dtype as a dashed line when they fit a scale the caches can still be read
// on, else named at the top.
void draw_plot(PanelContext& c, const CacheShape& shape, std::int64_t tokens, KvDtype dtype, ImVec2 size) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float th = ImGui::GetTextLineHeight();
  const std::vector<AttentionVariant> variants = plotted_variants(shape);
  const std::int64_t x_max = std::max<std::int64_t>(tokens, 1);
  const double weights = double(shape.parameters) * kv_dtype_info(dtype).bytes;
  const std::size_t n = variants.size();
  std::vector<double> ends(n);
  std::vector<std::string> labels(n);
  double largest = 1.0;
  float label_w = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    ends[i] = double(kv_cache_bytes(shape, variants[i], x_max, dtype));
    labels[i] = variants[i].name + " " +
                drawn::figure("cache_bytes", ends[i], format_decimal_bytes(ends[i]),
                              {{"model", variants[i].name}, {"shape", shape.name}, {"positions", x_max}, {"dtype", kv_dtype_info(dtype).name}});
    largest = std::max(largest, ends[i]);
    label_w = std::max(label_w, ImGui::CalcTextSize(labels[i].c_str()).x);
  }
  const bool weights_on_scale = weights <= 4.0 * largest;
  const std::string wl = "weights " + drawn::figure("weight_bytes", weights, format_decimal_bytes(weights), {{"shape", shape.name}});
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const double y_max = nice_ceiling((weights_on_scale ? std::max(largest, weights) : largest) * 1.05);
  const std::string top = format_decimal_bytes(y_max);
  const ImVec2 a(p.x + ImGui::CalcTextSize(top.c_str()).x + th * 0.4f, p.y + th * 0.5f);
  const ImVec2 b(p.x + size.x - label_w - th * 1.3f, p.y + size.y - th * 1.4f);
  if (b.x - a.x < th * 4 || b.y - a.y < th * 2) return;
  auto at = [&](double x, double y) { return ImVec2(a.x + float(x / double(x_max)) * (b.x - a.x), b.y - float(y / y_max) * (b.y - a.y)); };
  dl->AddLine(ImVec2(a.x, b.y), b, c.pal->border);
  dl->AddLine(a, ImVec2(a.x, b.y), c.pal->border);
  drawn::AddText(dl, ImVec2(p.x, a.y - th * 0.5f), c.pal->text_muted, drawn::figure("axis_tick", y_max, top));
  drawn::AddText(dl, ImVec2(a.x - ImGui::CalcTextSize("0").x - th * 0.3f, b.y - th * 0.5f), c.pal->text_muted,
                 drawn::figure("axis_tick", 0, "0"));
  const std::string right = drawn::figure("axis_tick", double(x_max), format_count(x_max) + (x_max == 1 ? " token" : " tokens"));
  drawn::AddText(dl, ImVec2(b.x - ImGui::CalcTextSize(right.c_str()).x, b.y + 2), c.pal->text_muted, right.c_str());
  if (!weights_on_scale) {  // on this scale they would flatten every cache line: named under the axis
    char note[96];
    std::snprintf(note, sizeof note, "%s (%s\xC3\x97 the largest cache: off the scale)", wl.c_str(),
                  drawn::figure("weights_over_cache", weights / largest, drawn::format("%.0f", weights / largest)).c_str());
    if (ImGui::CalcTextSize(note).x + ImGui::CalcTextSize(right.c_str()).x + th < b.x - a.x)
      drawn::AddText(dl, ImVec2(a.x, b.y + 2), c.pal->text_muted, note);
  }
  // Weights on the scale: dashed, labelled after the lines are drawn so they never cross the label.
  const float wy = at(0, weights).y;
  if (weights_on_scale)
    for (float x = a.x; x < b.x; x += th)
      dl->AddLine(ImVec2(x, wy), ImVec2(std::min(x + th * 0.5f, b.x), wy), c.pal->text_muted, 2.0f);
  const ImVec2 wp(a.x + th * 0.3f, wy + 2), ws = ImGui::CalcTextSize(wl.c_str());
  auto weights_label = [&] {
    if (!weights_on_scale) return;
    dl->AddRectFilled(ImVec2(wp.x - 2, wp.y), ImVec2(wp.x + ws.x + 2, wp.y + ws.y), c.pal->panel);
    drawn::AddText(dl, wp, c.pal->text_muted, wl.c_str());
  };
  const ImU32 colors[3] = {c.pal->series_uncached, c.pal->series_cached, c.pal->series_memory};
  const MarkShape kMarks[3] = {MarkShape::Circle, MarkShape::Square, MarkShape::TriangleUp};
  // Labels beside the lines' ends, a line apart, stacked in the order the lines end (each stays beside
  // its own line): pushed down past the one above, then up where the last would leave the plot.
  std::vector<float> label_y(n);
  for (std::size_t i = 0; i < n; ++i) {
    dl->AddLine(at(0, 0), at(double(x_max), ends[i]), colors[i], 3.0f);
    label_y[i] = at(double(x_max), ends[i]).y - th * 0.5f;
  }
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return label_y[x] < label_y[y]; });
  for (std::size_t k = 1; k < n; ++k) label_y[order[k]] = std::max(label_y[order[k]], label_y[order[k - 1]] + th);
  for (std::size_t k = n; k-- > 0;)
    label_y[order[k]] = std::min(label_y[order[k]], k + 1 < n ? label_y[order[k + 1]] - th : p.y + size.y - th);
  for (std::size_t i : order) {  // declared top to bottom
    const ImVec2 lp(b.x + th * 0.3f, label_y[i]);
    draw_mark(dl, ImVec2(lp.x + th * 0.3f, lp.y + th * 0.5f), std::max(4.0f, th * 0.28f), kMarks[i], colors[i]);
    drawn::AddText(dl, ImVec2(lp.x + th * 0.8f, lp.y), colors[i], labels[i].c_str());
    c.record->add_rect("calculator_labels", {lp.x, lp.y, lp.x + th * 0.8f + ImGui::CalcTextSize(labels[i].c_str()).x, lp.y + th});
  }
  weights_label();
  ImGui::Dummy(size);
}

}  // namespace

void draw_calculator_panel(PanelContext& c, float height) {
  const drawn::PanelScope scope(c.record, "calculator");
  const CacheShape shape = chosen_shape(c);
  const KvDtype dtype = kv_dtypes()[std::size_t(std::clamp(c.ui->calc_dtype, 0, int(kv_dtypes().size()) - 1))].id;
  const int held = held_positions(c);
  const std::int64_t tokens = c.ui->calc_tokens > 0 ? c.ui->calc_tokens : std::max(1, held);
  // The shape's own layout (MHA/GQA/MQA, local windows or MLA), in words and evaluated.
  const AttentionVariant own = own_attention_variant(shape);
  ImGui::PushFont(c.fonts->title);
  drawn::figure("k_and_v", 2, "2 \xC3\x97");  // K and V: the factor the formula in words starts with
  drawn::TextWrapped("How big does the cache get?  %s", cache_formula_in_words(own).c_str());
  ImGui::PopFont();
  draw_controls(c, shape);
  const std::string model = shape.name == "loaded" ? "loaded" : shape.label;
  // "Llama-3-8B-like (GQA)", "DeepSeek-V2-Lite (MLA: latent 512 ...)": the label names the layout already.
  const bool named = shape.label.find("(" + own.name) != std::string::npos;
  FigureLog formula_figures;
  const std::string formula = drawn::figure("model_label", 0, shape.label) + (named ? "" : " (" + own.name + ")") + ": " +
                              cache_formula(shape, own, tokens, dtype, &formula_figures,
                                            {{"model", model}, {"shape", shape.name}, {"positions", tokens}, {"dtype", kv_dtype_info(dtype).name}});
  drawn::figures(formula_figures.figures());
  drawn::TextWrapped("%s", formula.c_str());
  if (c.report && c.report->engine.set) {
    const EngineBytes& e = c.report->engine;
    char check[192];
    const nlohmann::json loaded = {{"model", "loaded"}, {"positions", e.positions}, {"dtype", "fp32"}};
    nlohmann::json engine = loaded;
    engine["source"] = "engine";
    std::snprintf(check, sizeof check, "Engine check (%s, fp32, %s): calculator %s B, engine %s B %s",
                  drawn::figure("model_name", 0, c.model_name).c_str(),
                  drawn::figure("positions", e.positions, "t=" + std::to_string(e.positions), loaded).c_str(),
                  drawn::figure("cache_bytes", double(e.calculator), format_count(e.calculator), loaded).c_str(),
                  drawn::figure("cache_bytes", double(e.engine), format_count(e.engine), engine).c_str(),
                  e.calculator == e.engine ? "\xE2\x9C\x93 equal" : "\xE2\x9C\x95 differ");
    drawn::TextUnformatted(check);
  }
  const float w = ImGui::GetContentRegionAvail().x;
  const float table_w = std::min(w * 0.45f, ImGui::CalcTextSize("attention (KV heads)  000.00 MB  000.00 MB  000.00 MB").x * 1.15f);
  const float top = ImGui::GetCursorPosY();
  ImGui::BeginGroup();
  draw_table(c, shape, tokens, table_w);
  ImGui::EndGroup();
  ImGui::SameLine(0, ImGui::GetFontSize());
  ImGui::SetCursorPosY(top);
  const float plot_h = std::max(line_height() * 3.0f, height - top - ImGui::GetStyle().WindowPadding.y * 2);
  draw_plot(c, shape, tokens, dtype, ImVec2(ImGui::GetContentRegionAvail().x, plot_h));
}

}  // namespace kvscope::gui
