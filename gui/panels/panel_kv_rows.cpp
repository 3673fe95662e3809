// The twin panes, "Without KV cache" | "With KV cache": for the chosen layer, the K and V rows of
// positions 0..t (the chosen head's slice of each), each marked by what happened to it this step; the
// temporary query row; a map of every layer; and the costs of the step.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/lessons/cache_calculator.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

const char* kind_long_name(RowKind kind) {
  switch (kind) {
    case RowKind::NewlyComputed: return "newly computed";
    case RowKind::Recomputed: return "recomputed (redundant)";
    case RowKind::ReadFromCache: return "read from cache";
    case RowKind::Evicted: return "evicted from the cache";
    case RowKind::RolledBack: return "rolled back (rejected guess)";
  }
  return "";
}

// The K/V head the chosen query head reads (GQA: a group of query heads shares one), from the trace.
int kv_head_shown(const PanelContext& c) { return c.trace ? c.trace->kv_head_of(c.ui->head) : c.ui->head; }

// Largest |value| over the chosen heads' slices of both panes' rows: one colour scale for both.
float value_scale(const PanelContext& c, int head, int d_head) {
  float m = 0.0f;
  const int kv_off = kv_head_shown(c) * d_head;
  for (PaneKind kind : kPaneKinds) {
    const PaneView* pane = c.panes[kind];
    if (!pane) continue;
    for (const RowView& r : pane->rows)
      for (const float* v : {r.key, r.value})
        if (v)
          m = std::max(m, max_abs(v + kv_off, d_head));
  }
  if (c.config->mla() && c.panes[PaneKind::Cached])  // the rebuilt K rows drawn for MLA's cached pane
    for (const RowView& r : c.panes[PaneKind::Cached]->rows)
      if (r.rebuilt_key)
        m = std::max(m, max_abs(r.rebuilt_key + head * d_head, d_head));
  if (c.trace && c.ui->layer < int(c.trace->cached.forward.layers.size())) {
    const RowVector& q = c.trace->cached.forward.layers[c.ui->layer].query;
    const int begin = std::min(int(q.size()), head * d_head);
    m = std::max(m, max_abs(q.data() + begin, std::min(d_head, int(q.size()) - begin)));
  }
  return m;
}

struct Columns {
  float marker, pos, token, status, k, v, strip_w;
};

// last_position: the widest position number drawn (4,095 needs four digits' room before the token).
Columns columns(float width, float font_px, int last_position) {
  Columns col;
  col.marker = 0.0f;
  col.pos = col.marker + font_px * 1.6f;
  const std::string widest(std::max<std::size_t>(3, std::to_string(std::max(0, last_position)).size()), '0');
  col.token = col.pos + ImGui::CalcTextSize(widest.c_str()).x + font_px * 0.4f;
  // A token too long for its column is clipped half a character short of the status word.
  col.status = col.token + std::max(ImGui::CalcTextSize("'flies'").x, width * 0.13f) + font_px * 0.5f;
  const float fixed = col.status + ImGui::CalcTextSize("from cache").x + font_px * 0.6f;
  col.strip_w = std::max(font_px * 2.0f, (width - fixed - font_px * 0.8f) * 0.5f);
  col.k = fixed;
  col.v = fixed + col.strip_w + font_px * 0.8f;
  return col;
}

// GQA / MQA: one chip per query head, grouped under the KV head they read ("KV 1: q2 q3"); the chosen
// query head and its KV head are filled, the rest outlined (told apart by fill, not colour alone).
// Clicking a chip picks that query head. The grouping is the trace's (query_heads_of).
void draw_head_groups(PanelContext& c, PaneKind pane) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const int shown = kv_head_shown(c);
  const float th = ImGui::GetTextLineHeight(), pad = th * 0.25f;
  for (int g = 0; g < c.config->kv_heads(); ++g) {
    const bool read = g == shown;
    if (g) ImGui::SameLine(0, th * 0.6f);
    ImGui::BeginGroup();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const std::string kv = drawn::figure("kv_head", g, "KV " + std::to_string(g)) + ":";
    const float kv_w = ImGui::CalcTextSize(kv.c_str()).x + pad * 2;
    float x = p.x + kv_w + pad;
    std::vector<std::pair<int, float>> chips;  // query head, x
    for (int h : c.trace->query_heads_of(g)) {
      chips.push_back({h, x});
      x += ImGui::CalcTextSize(("q" + std::to_string(h)).c_str()).x + pad * 3;  // "q3": a name, as "L2"
    }
    const ImVec2 end(x, p.y + th + pad * 2);
    // The group's box: filled when the chosen query head reads this KV head.
    if (read) dl->AddRectFilled(p, end, c.pal->hover, pad);
    dl->AddRect(p, end, read ? c.pal->text : c.pal->border, pad, 0, read ? 2.5f : 1.0f);
    drawn::AddText(dl, ImVec2(p.x + pad, p.y + pad), c.pal->text, kv.c_str());
    for (const auto& [h, cx] : chips) {
      const std::string label = "q" + std::to_string(h);
      const ImVec2 a(cx, p.y + pad * 0.5f), b(cx + ImGui::CalcTextSize(label.c_str()).x + pad * 2, p.y + th + pad * 1.5f);
      ImGui::SetCursorScreenPos(a);
      ImGui::PushID(int(pane) * 1000 + h);
      if (ImGui::InvisibleButton("q", ImVec2(b.x - a.x, b.y - a.y))) push_action(c, ActionType::SetHead, h);
      if (pane == PaneKind::Cached) c.record->rect_at("head_chips", h, last_item_rect());
      if (ImGui::IsItemHovered())
        drawn::SetTooltip("query head %s reads KV head %s: its K and V rows are the ones shown below",
                          drawn::figure("head", h, std::to_string(h)).c_str(), drawn::figure("kv_head", g, std::to_string(g)).c_str());
      ImGui::PopID();
      const bool chosen = h == c.ui->head;
      if (chosen) dl->AddRectFilled(a, b, c.pal->text, pad);
      else dl->AddRect(a, b, c.pal->text_muted, pad);
      drawn::AddText(dl, ImVec2(a.x + pad, p.y + pad), chosen ? c.pal->panel : c.pal->text, label.c_str());
    }
    ImGui::SetCursorScreenPos(p);
    ImGui::Dummy(ImVec2(end.x - p.x, end.y - p.y));
    ImGui::EndGroup();
  }
  std::string sharing;
  const std::vector<int> heads = c.trace->query_heads_of(shown);
  for (std::size_t i = 0; i < heads.size(); ++i)
    sharing += (i == 0 ? "" : i + 1 == heads.size() ? " and " : ", ") + drawn::figure("head", heads[i], std::to_string(heads[i]));
  const std::string kv_head = drawn::figure("kv_head", shown, "KV head " + std::to_string(shown));
  char line[96];
  std::snprintf(line, sizeof line, "%s is read by query heads %s", kv_head.c_str(), sharing.c_str());
  ImGui::SameLine(0, th * 0.6f);
  if (ImGui::GetContentRegionAvail().x < ImGui::CalcTextSize(line).x) ImGui::NewLine();  // too narrow: own line
  else ImGui::SetCursorPosY(ImGui::GetCursorPosY() + pad);
  drawn::TextUnformatted(line);
}

// Under a cache policy: what it holds against the full cache beside it, and what that cost.
void draw_policy_line(PanelContext& c, PaneKind pane) {
  const PolicyTrace& p = c.sources[pane].trace->cached.policy;
  const int held = int(p.kept_at(c.ui->layer, kv_head_shown(c)).size());
  const nlohmann::json policy = {{"policy", p.spec}};
  const nlohmann::json at = {{"policy", p.spec}, {"layer", c.ui->layer}, {"kv_head", kv_head_shown(c)}, {"mode", "cached"}};
  drawn::TextWrapped("%s holds %s of %s \xC2\xB7 %s of %s \xC2\xB7 KL %s \xC2\xB7 %s %s", drawn::figure("policy_spec", 0, p.spec).c_str(),
                     drawn::figure("rows_held", held, std::to_string(held), at).c_str(),
                     drawn::figure("positions", c.trace->position_end, std::to_string(c.trace->position_end)).c_str(),
                     drawn::figure("cache_bytes", double(p.cache_bytes), format_bytes(p.cache_bytes), policy).c_str(),
                     drawn::figure("full_cache_bytes", double(p.full_cache_bytes), format_bytes(p.full_cache_bytes), policy).c_str(),
                     drawn::figure("kl", p.kl_from_full, drawn::format("%.2g", p.kl_from_full), policy).c_str(),
                     drawn::figure("top_k", 1, "top-1").c_str(), p.top1_agrees ? "\xE2\x9C\x93" : "\xE2\x9C\x95");
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("against a full float32 cache run beside it on the same tokens:\nmax |\xCE\x94p| %s%s",
                      drawn::figure("max_abs_prob_diff", p.max_abs_prob_diff, drawn::format("%.4f", double(p.max_abs_prob_diff))).c_str(),
                      p.max_abs_k_error > 0
                          ? (", max |\xCE\x94K| " + drawn::figure("max_abs_k_error", p.max_abs_k_error, drawn::format("%.1e", double(p.max_abs_k_error))) +
                             ", max |\xCE\x94V| " + drawn::figure("max_abs_v_error", p.max_abs_v_error, drawn::format("%.1e", double(p.max_abs_v_error))))
                                .c_str()
                          : "");
}

// Local and global layers (Gemma 3): rows each kind holds now, from the trace: a local layer stops at
// its window, a global one holds every position.
void draw_local_global_label(PanelContext& c, const StepTrace& t) {
  int local_layers = 0, global_layers = 0, local_rows = 0, global_rows = 0, window = 0;
  for (int l = 0; l < int(t.cached.forward.layers.size()); ++l) {
    const int held = int(t.cached.forward.layers[std::size_t(l)].held_rows.size());
    if (c.config->layer_window(l) > 0) {
      ++local_layers, local_rows += held;
      window = std::max(window, c.config->layer_window(l));
    } else {
      ++global_layers, global_rows += held;
    }
  }
  drawn::Text("Cache K,V rows: %s local layers (window %s) hold %s \xC2\xB7 %s global hold %s",
              drawn::figure("local_layers", local_layers, std::to_string(local_layers)).c_str(),
              drawn::figure("window", window, std::to_string(window)).c_str(),
              drawn::figure("rows_held", local_rows, std::to_string(local_rows), {{"layers", "local"}, {"mode", "cached"}}).c_str(),
              drawn::figure("global_layers", global_layers, std::to_string(global_layers)).c_str(),
              drawn::figure("rows_held", global_rows, std::to_string(global_rows), {{"layers", "global"}, {"mode", "cached"}}).c_str());
}

void draw_header(PanelContext& c, PaneKind pane) {
  const PaneSource& source = c.sources[pane];
  const bool cached = source.cached;
  ImGui::PushFont(c.fonts->title);
  drawn::TextUnformatted(!source.policy.empty() ? ("With " + source.policy).c_str() : cached ? "With KV cache" : "Without KV cache");
  ImGui::PopFont();
  if (c.trace) {
    ImGui::SameLine();
    const int fed = c.trace->position_end - c.trace->position_begin;
    char phase[96];
    const nlohmann::json mode = {{"mode", cached ? "cached" : "uncached"}, {"layer", 0}};
    if (c.trace->prefill && c.trace->position_begin > 0 && !cached)  // a later chunk (a question after a prefix)
      std::snprintf(phase, sizeof phase, "Prefill of %s: all %s rows again", drawn::figure("positions_fed", fed, std::to_string(fed)).c_str(),
                    drawn::figure("rows_computed", c.trace->position_end, std::to_string(c.trace->position_end), mode).c_str());
    else if (c.trace->prefill)
      std::snprintf(phase, sizeof phase, "Prefill: %s row%s at once", drawn::figure("positions_fed", fed, std::to_string(fed)).c_str(),
                    fed == 1 ? "" : "s");
    else if (cached && fed > 1)  // a speculative round: the pending token and the guesses, one pass
      std::snprintf(phase, sizeof phase, "Decode: %s new rows in one pass", drawn::figure("positions_fed", fed, std::to_string(fed)).c_str());
    else
      std::snprintf(phase, sizeof phase, "Decode: %s", cached ? drawn::figure("positions_fed", 1, "1 new row").c_str() : "all rows again");
    drawn::TextDisabled("\xC2\xB7 %s", phase);
  }
  const int t = c.trace ? c.trace->position_end : 0;
  if (cached && c.config->mla())
    drawn::Text("Cache: latent rows [%s, %s, %s + %s rotated] \xE2\x80\x94 K, V rebuilt each step",
                drawn::figure("layers", c.config->n_layer, std::to_string(c.config->n_layer) + " layers").c_str(),
                drawn::figure("rows_held", t, "t=" + std::to_string(t), {{"layer", c.ui->layer}, {"mode", "cached"}}).c_str(),
                drawn::figure("latent_dim", c.config->kv_lora_rank, std::to_string(c.config->kv_lora_rank)).c_str(),
                drawn::figure("rotated_key_dim", c.config->qk_rope_dim, std::to_string(c.config->qk_rope_dim)).c_str());
  else if (cached && c.config->n_local_layers() > 0 && source.trace)
    draw_local_global_label(c, *source.trace);
  else if (cached) {
    // t is the rows the shown layer holds: every position, or what a window or policy left.
    const StepTrace* shown = source.trace;
    const int layer = c.ui->layer;
    const bool has_layer = shown && layer < int(shown->cached.forward.layers.size());
    // A policy may keep different rows per KV head: then t is the shown KV head's.
    const PolicyTrace* policy = shown && shown->cached.policy.active ? &shown->cached.policy : nullptr;
    const int kv_head = kv_head_shown(c);
    const int held = !has_layer ? t
                     : policy   ? int(policy->kept_at(layer, kv_head).size())
                                : int(shown->cached.forward.layers[std::size_t(layer)].held_rows.size());
    const nlohmann::json at = {{"layer", layer}, {"kv_head", kv_head}, {"mode", "cached"}};
    const std::string shape = "Cache K,V: [" + drawn::figure("layers", c.config->n_layer, std::to_string(c.config->n_layer) + " layers") +
                              ", " + drawn::figure("kv_heads", c.config->kv_heads(), std::to_string(c.config->kv_heads()) + " KV heads") +
                              ", " + drawn::figure("rows_held", held, "t=" + std::to_string(held), at) + ", " +
                              drawn::figure("head_dim", c.config->d_head(), std::to_string(c.config->d_head())) + "] \xE2\x80\x94 ";
    if (held < t)
      drawn::Text("%s%s of %s held (L%d%s)", shape.c_str(), drawn::figure("rows_held", held, std::to_string(held), at).c_str(),
                  drawn::figure("positions", t, std::to_string(t)).c_str(), layer,
                  policy && policy->per_head ? (", KV " + drawn::figure("kv_head", kv_head, std::to_string(kv_head))).c_str() : "");
    else
      drawn::Text("%sonly t grows", shape.c_str());
  }
  else
    drawn::Text("No cache: each step starts again from position %s", drawn::figure("position", 0, "0").c_str());
  if (cached && source.trace && source.trace->cached.policy.active) draw_policy_line(c, pane);
  if (c.trace && c.config->kv_heads() < c.config->n_head) draw_head_groups(c, pane);
}

void draw_column_titles(PanelContext& c, PaneKind pane, const Columns& col) {
  const float x = ImGui::GetCursorPosX();
  drawn::TextDisabled("pos");
  ImGui::SameLine(x + col.token);
  drawn::TextDisabled("token");
  ImGui::SameLine(x + col.k);
  if (c.sources[pane].cached && c.panes[pane] && c.panes[pane]->latent_width > 0) {
    drawn::TextDisabled("latent + k (L%d)", c.ui->layer);  // the header line says "32 + 8 rotated"
    ImGui::SameLine(x + col.v);
    drawn::TextDisabled("K rebuilt, head %s", drawn::figure("head", c.ui->head, std::to_string(c.ui->head)).c_str());
    return;
  }
  const std::string kv_head = drawn::figure("kv_head", kv_head_shown(c), "KV head " + std::to_string(kv_head_shown(c)));
  drawn::TextDisabled("K (L%d, %s)", c.ui->layer, kv_head.c_str());
  ImGui::SameLine(x + col.v);
  drawn::TextDisabled("V (L%d, %s)", c.ui->layer, kv_head.c_str());
}

// Under a cache policy, why a row the cached pane reads is still there, as the rule said ("sink",
// "heavy", ...; the newest window's "recent" and "all" go unsaid). Empty without a policy.
const char* policy_role(const PanelContext& c, PaneKind pane, const RowView& r) {
  const PaneSource& source = c.sources[pane];
  if (!source.cached || !source.trace->cached.policy.active || r.kind == RowKind::Evicted) return "";
  const char* why = source.trace->cached.policy.reason_of(c.ui->layer, kv_head_shown(c), r.position);
  return std::strcmp(why, "recent") == 0 || std::strcmp(why, "all") == 0 ? "" : why;
}

void draw_row(PanelContext& c, PaneKind pane, const RowView& r, const Columns& col, float scale, float row_w) {
  const float lh = line_height(), th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->ChannelsSetCurrent(kRowHighlights);
  if (c.view->hover_position == r.position) dl->AddRectFilled(p, ImVec2(p.x + row_w, p.y + lh), c.pal->hover);
  dl->ChannelsSetCurrent(kRowMarks);
  // The row's item plus ItemSpacing.y is exactly one line, so the clipper's step matches.
  ImGui::InvisibleButton(("row" + std::to_string(r.position)).c_str(),
                         ImVec2(row_w, lh - ImGui::GetStyle().ItemSpacing.y));
  hover_position_if_item_hovered(c, r.position);
  const std::string role = policy_role(c, pane, r);
  if (ImGui::IsItemHovered())
    drawn::SetTooltip("position %s %s: %s%s%s", drawn::figure("position", r.position, std::to_string(r.position)).c_str(),
                      token_label(*c.trace, r.position).c_str(), kind_long_name(r.kind),
                      role.empty() ? "" : (", kept by the policy as '" + role + "'").c_str(),
                      r.computed_at_step >= 0
                          ? (" (values from " + drawn::figure("step", r.computed_at_step, "step " + std::to_string(r.computed_at_step)) + ")").c_str()
                          : "");
  const float y = p.y + (lh - th) * 0.5f;
  draw_row_marker(dl, ImVec2(p.x + col.marker, y), r.kind, *c.pal, th);
  drawn::AddText(dl, ImVec2(p.x + col.pos, y), c.pal->text, drawn::figure("position", r.position, std::to_string(r.position)));
  const std::string token = token_label(*c.trace, r.position);
  // Cut on the CPU, glyph by glyph: a clip rectangle a row would be one more rasteriser state a row.
  const ImVec4 token_clip(p.x + col.token, p.y, p.x + col.status - ImGui::GetFontSize() * 0.5f, p.y + lh);
  drawn::AddText(dl, nullptr, 0.0f, ImVec2(p.x + col.token, y), c.pal->text, token.c_str(), 0.0f, &token_clip);
  // A sink or heavy hitter says so in words, boxed (shape, not colour alone), instead of "from cache".
  if (!role.empty()) {
    const ImVec2 size = ImGui::CalcTextSize(role.c_str());
    dl->AddRect(ImVec2(p.x + col.status - 3, y - 1), ImVec2(p.x + col.status + size.x + 3, y + size.y + 1), c.pal->text, 3.0f,
                0, 1.5f);
    drawn::AddText(dl, ImVec2(p.x + col.status, y), c.pal->text, role.c_str());
  } else {
    drawn::AddText(dl, ImVec2(p.x + col.status, y), c.pal->text, row_kind_name(r.kind));
  }
  const int d_head = c.config->d_head(), off = kv_head_shown(c) * d_head;
  const ImVec2 strip(col.strip_w, th * 0.8f);
  const float sy = p.y + (lh - strip.y) * 0.5f;
  const PaneView& view = *c.panes[pane];
  constexpr bool kLayered = true;  // this list is split in RowLayer channels (draw_kv_rows_panel)
  if (c.sources[pane].cached && view.latent_width > 0) {  // MLA: the cached latent, then K rebuilt from it (dashed)
    draw_value_strip(c, dl, ImVec2(p.x + col.k, sy), strip, r.latent, view.latent_width, view.latent_scale, false, kLayered);
    draw_value_strip(c, dl, ImVec2(p.x + col.v, sy), strip, r.rebuilt_key ? r.rebuilt_key + c.ui->head * d_head : nullptr,
                     d_head, scale, true, kLayered);
  } else {
    draw_value_strip(c, dl, ImVec2(p.x + col.k, sy), strip, r.key ? r.key + off : nullptr, d_head, scale, false, kLayered);
    if (r.position == c.trace->newest_position())
      c.record->pane_value("newest_k_strip", pane, {p.x + col.k, sy, p.x + col.k + strip.x, sy + strip.y});
    draw_value_strip(c, dl, ImVec2(p.x + col.v, sy), strip, r.value ? r.value + off : nullptr, d_head, scale, false, kLayered);
  }
  if (r.kind == RowKind::Evicted || r.kind == RowKind::RolledBack)  // struck through: no longer in the cache
    dl->AddLine(ImVec2(p.x + col.k, p.y + lh * 0.5f), ImVec2(p.x + col.v + col.strip_w, p.y + lh * 0.5f), c.pal->text, 2.0f);
}

// The temporary query row sits under the K column: it is compared with every K row above it, and it
// is never written to the cache (dashed outline; the V column stays empty).
void draw_query_row(PanelContext& c, PaneKind pane, const Columns& col, float scale) {
  const StepTrace& t = *c.trace;
  const ModeTrace& m = c.sources[pane].mode();
  if (c.ui->layer >= int(m.forward.layers.size())) return;
  const RowVector& q = m.forward.layers[c.ui->layer].query;
  const float th = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  drawn::AddText(dl, ImVec2(p.x + col.marker, p.y), c.pal->text, "Q");
  drawn::AddText(dl, ImVec2(p.x + col.pos, p.y), c.pal->text, drawn::figure("position", t.newest_position(), std::to_string(t.newest_position())));
  dl->PushClipRect(ImVec2(p.x, p.y), ImVec2(p.x + col.k - 4, p.y + line_height()), true);
  drawn::AddText(dl, ImVec2(p.x + col.token, p.y), c.pal->text, "query \xC2\xB7 not cached");
  dl->PopClipRect();
  const int d_head = c.config->d_head();
  const float* values = q.size() >= (c.ui->head + 1) * d_head ? q.data() + c.ui->head * d_head : nullptr;
  draw_value_strip(c, dl, ImVec2(p.x + col.k, p.y + th * 0.1f), ImVec2(col.strip_w, th * 0.8f), values, d_head, scale,
                   true);
  drawn::AddText(dl, ImVec2(p.x + col.v, p.y), c.pal->text_muted, "\xE2\x86\x91 scored against K");
  ImGui::Dummy(ImVec2(1, line_height()));
  if (ImGui::IsItemHovered() || ImGui::IsMouseHoveringRect(p, ImVec2(p.x + col.v + col.strip_w, p.y + line_height())))
    drawn::SetTooltip("query of position %s (head %s): scored against every K row above, used once this step, then "
                      "dropped: the cache keeps no Q", drawn::figure("position", t.newest_position(), std::to_string(t.newest_position())).c_str(),
                      drawn::figure("head", c.ui->head, std::to_string(c.ui->head)).c_str());
}

void draw_layer_map(PanelContext& c, const PaneView& pane) {
  const int n_layer = int(pane.layers.size());
  if (n_layer == 0) return;
  ImGui::AlignTextToFramePadding();
  const std::string kinds = global_layers_text(*c.config);  // which map rows are global layers
  const std::string all = drawn::figure("layers", n_layer, std::to_string(n_layer) + " layers");
  if (kinds.empty())
    drawn::Text("All %s:", all.c_str());
  else
    drawn::Text("All %s (%s):", all.c_str(), kinds.c_str());
  ImGui::SameLine();
  const int n = int(pane.layers[0].size());
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float avail = ImGui::GetContentRegionAvail().x;
  const float lh = line_height();
  const float cell_w = std::min(lh * 1.2f, avail / float(std::max(1, n)));
  const float cell_h = kv_layer_map_height(n_layer) / float(n_layer);
  const float gap = cell_w >= 6.0f ? 2.0f : 0.0f;  // gaps keep each cell its own mark
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (int l = 0; l < n_layer; ++l) {
    const std::vector<RowKind>& kinds = pane.layers[l];
    for (int k = 0; k < n;) {
      // Without gaps, a run of one kind is one rectangle (hundreds of sub-pixel cells are not drawn apart).
      int end = k + 1;
      while (gap == 0.0f && end < n && kinds[end] == kinds[k]) ++end;
      const ImVec2 a(p.x + k * cell_w, p.y + l * cell_h);
      dl->AddRectFilled(a, ImVec2(p.x + end * cell_w - gap, a.y + cell_h - gap), c.pal->row[int(kinds[k])]);
      k = end;
    }
    const int hover = c.view->hover_position;
    if (l == c.ui->layer && hover >= 0 && hover < n) {
      const ImVec2 a(p.x + hover * cell_w, p.y + l * cell_h);
      dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(a.x + cell_w - gap + 1, a.y + cell_h - gap + 1), c.pal->text, 0, 0, 2);
    }
  }
  ImGui::Dummy(ImVec2(n * cell_w, n_layer * cell_h));
}

std::string short_count(std::int64_t n) {
  char buf[32];
  if (n >= 10000000000LL) std::snprintf(buf, sizeof buf, "%.1f G", n / 1e9);
  else if (n >= 10000000) std::snprintf(buf, sizeof buf, "%.1f M", n / 1e6);
  else return format_count(n);
  return buf;
}

// Two lines (the list keeps the height); the hover gives every counter in full.
void draw_costs(PanelContext& c, const PaneView& v, PaneKind pane) {
  const bool cached = c.sources[pane].cached;
  // GQA / MQA / MLA: what the same model would hold with a K/V head per query head, beside what it holds.
  const nlohmann::json mode = pane_context(c, pane);
  const std::string cache = cached ? "cache " + drawn::figure("cache_bytes", double(v.cache_bytes), format_bytes(v.cache_bytes), mode)
                                   : std::string("no cache");
  std::string as_mha;
  if (cached && (c.config->kv_heads() < c.config->n_head || c.config->mla()))
    as_mha = " \xC2\xB7 as " + as_mha_label(*c.config) + " " +
             drawn::figure("cache_bytes", double(cache_bytes_as_mha(*c.config, *c.trace)),
                           format_bytes(cache_bytes_as_mha(*c.config, *c.trace)), {{"model", as_mha_label(*c.config)}});
  const ImVec2 start = ImGui::GetCursorScreenPos();
  nlohmann::json step = mode, total = mode, layer0 = mode;
  step["scope"] = "step";
  total["scope"] = "total";
  layer0["layer"] = 0;
  drawn::Text("K/V rows: %s computed (%s/layer) \xC2\xB7 %s read \xC2\xB7 %s",
              drawn::figure("rows_computed", double(v.rows_computed_step), format_count(v.rows_computed_step), step).c_str(),
              drawn::figure("rows_computed", double(v.rows_computed_per_layer), format_count(v.rows_computed_per_layer), layer0).c_str(),
              drawn::figure("keys_read", double(v.rows_read_newest), format_count(v.rows_read_newest), layer0).c_str(), cache.c_str());
  // "traced": the step's time includes recording what the panes show (the bench and the memory wall time
  // steps that record nothing).
  drawn::Text("MACs %s \xC2\xB7 total %s \xC2\xB7 %s traced%s", drawn::figure("macs", double(v.macs_step), short_count(v.macs_step), step).c_str(),
              drawn::figure("macs", double(v.macs_total), short_count(v.macs_total), total).c_str(),
              drawn::figure("seconds", v.seconds, format_seconds(v.seconds)).c_str(), as_mha.c_str());
  const ImVec2 end(start.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y);
  if (!ImGui::IsMouseHoveringRect(start, end)) return;
  drawn::SetTooltip("K/V rows computed: %s (%s per layer), total %s\nK/V rows read: %s by the new query, %s by all "
                    "queries\nMultiply-adds: %s, total %s\nTime %s \xC2\xB7 %s",
                    format_count(v.rows_computed_step).c_str(), format_count(v.rows_computed_per_layer).c_str(),
                    drawn::figure("rows_computed", double(v.rows_computed_total), format_count(v.rows_computed_total), total).c_str(),
                    format_count(v.rows_read_newest).c_str(),
                    drawn::figure("keys_read_all_queries", double(v.rows_read_all_queries), format_count(v.rows_read_all_queries)).c_str(),
                    drawn::figure("macs", double(v.macs_step), format_count(v.macs_step), step).c_str(),
                    drawn::figure("macs", double(v.macs_total), format_count(v.macs_total), total).c_str(), format_seconds(v.seconds).c_str(),
                    cached ? cache.c_str() : "no cache kept");
}

}  // namespace

float kv_layer_map_height(int n_layer) {
  const float lh = line_height();
  return float(n_layer) * std::min(lh * 0.9f, std::max(3.0f, 2.0f * lh / float(std::max(1, n_layer))));
}

float kv_pane_tail_height(int n_layer) {
  const ImGuiStyle& style = ImGui::GetStyle();
  const float map = std::max(kv_layer_map_height(n_layer), ImGui::GetFrameHeight());
  return line_height() * 3.0f + map + style.ItemSpacing.y * 2.0f;  // Q row, map, 2 cost lines
}

// Lines draw_header adds under the title and the cache line, in the pane that has the most: the
// policy line, and on a GQA / MQA model the query-head chips (a tall line) and the sentence under them.
float kv_header_extra_lines(const PanelContext& c) {
  float lines = 0.0f;
  for (PaneKind pane : kPaneKinds) {
    const PaneSource& source = c.sources[pane];
    if (source.cached && source.trace && source.trace->cached.policy.active) lines = 1.0f;
  }
  if (c.trace && c.config->kv_heads() < c.config->n_head) lines += 2.5f;
  return lines;
}

float kv_pane_height(const PanelContext& c, int n_rows) {
  const ImGuiStyle& style = ImGui::GetStyle();
  const float title = ImGui::GetFontSize() * 1.15f + style.ItemSpacing.y;
  return title + line_height() * (2.0f + kv_header_extra_lines(c) + float(n_rows)) + style.ItemSpacing.y +
         kv_pane_tail_height(c.config->n_layer) + style.WindowPadding.y * 2.0f;
}

void draw_legend(PanelContext& c) {
  const drawn::PanelScope scope(c.record, "legend");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float th = ImGui::GetTextLineHeight();
  // A speculative lesson rolls rows back where others evict them.
  const RowKind gone = c.lesson->kind == LessonKind::Speculative ? RowKind::RolledBack : RowKind::Evicted;
  for (RowKind kind : {RowKind::NewlyComputed, RowKind::Recomputed, RowKind::ReadFromCache, gone}) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const ImVec2 size = draw_row_marker(dl, p, kind, *c.pal, th);
    ImGui::Dummy(size);
    ImGui::SameLine();
    drawn::TextUnformatted(kind_long_name(kind));
    ImGui::SameLine(0, th);
  }
  drawn::TextUnformatted("values:");
  ImGui::SameLine();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = th * 4.0f;
  for (int i = 0; i < 32; ++i)
    dl->AddRectFilled(ImVec2(p.x + w * i / 32, p.y), ImVec2(p.x + w * (i + 1) / 32 + 1, p.y + th), viridis(i / 31.0f));
  ImGui::Dummy(ImVec2(w, th));
  ImGui::SameLine();
  drawn::TextUnformatted("\xE2\x88\x92 to +");
  // The heatmaps' masked cells: the same grey and hatching as the shader draws.
  const char* masked = "masked";
  if (ImGui::GetContentRegionAvail().x < th * 2.5f + ImGui::CalcTextSize(masked).x) return;
  ImGui::SameLine(0, th);
  const ImVec2 q = ImGui::GetCursorScreenPos();
  const HeatmapColors& heat = c.pal->heat;
  auto to_u32 = [](const float* rgb) { return ImGui::ColorConvertFloat4ToU32(ImVec4(rgb[0], rgb[1], rgb[2], 1.0f)); };
  dl->AddRectFilled(q, ImVec2(q.x + th * 1.2f, q.y + th), to_u32(heat.masked));
  dl->PushClipRect(q, ImVec2(q.x + th * 1.2f, q.y + th), true);
  for (float x = -th; x < th * 1.2f; x += 10.0f)
    dl->AddLine(ImVec2(q.x + x, q.y + th), ImVec2(q.x + x + th, q.y), to_u32(heat.hatch), 3.0f);
  dl->PopClipRect();
  ImGui::Dummy(ImVec2(th * 1.2f, th));
  ImGui::SameLine();
  drawn::TextUnformatted(masked);
}

void draw_kv_rows_panel(PanelContext& c, PaneKind pane, float) {
  const drawn::PanelScope scope(c.record, "kv_rows");
  const ImVec2 wp = ImGui::GetWindowPos(), ws = ImGui::GetWindowSize();
  c.record->pane_rect("pane", pane, {wp.x, wp.y, wp.x + ws.x, wp.y + ws.y});
  draw_header(c, pane);
  const PaneView* v = c.panes[pane];
  if (!c.trace || !v) {
    drawn::TextWrapped(pane == PaneKind::Cached ? "The cache is empty: step 0 (prefill) will write the prompt's rows."
                            : "Nothing computed yet: press Space to run step 0 (prefill).");
    return;
  }
  if (!v->ran) {
    drawn::TextUnformatted("This mode did not run.");
    return;
  }
  const float width = ImGui::GetContentRegionAvail().x;
  const Columns col = columns(width, c.fonts->body_px, c.trace->newest_position());
  const float scale = value_scale(c, c.ui->head, c.config->d_head());
  draw_column_titles(c, pane, col);
  const float lh = line_height();
  // Whole rows only (a row cut at the top of the list reads as a broken one): k rows are k lines less
  // the spacing after the last, which is also the list's content height, so scrolling moves by rows.
  const float fit = std::floor((ImGui::GetContentRegionAvail().y - kv_pane_tail_height(c.config->n_layer)) / lh);
  const float n_visible = std::min(std::max(1.0f, fit), float(v->rows.size()));
  c.record->pane_value("kv_rows_visible", pane, int(n_visible));
  ImGui::BeginChild("rows", ImVec2(0, n_visible * lh - ImGui::GetStyle().ItemSpacing.y), false);
  if (c.view->rows_scrolled[pane] != c.trace_version) {  // a new step: show the newest rows
    ImGui::SetScrollY(lh * float(v->rows.size()));
    c.actions->push_back({ActionType::RowsScrolled, int(pane), "", 0.0f, int(c.trace_version)});
  }
  ImDrawList* rows_list = ImGui::GetWindowDrawList();
  rows_list->ChannelsSplit(kRowLayers);
  ImGuiListClipper clipper;
  clipper.Begin(int(v->rows.size()), lh);
  while (clipper.Step())
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) draw_row(c, pane, v->rows[i], col, scale, width);
  rows_list->ChannelsMerge();
  ImGui::EndChild();
  draw_query_row(c, pane, col, scale);
  draw_layer_map(c, *v);
  draw_costs(c, *v, pane);
}

}  // namespace kvscope::gui
