// The speculation view of a speculative lesson: the draft's cache and the target's cache side by side
// for the round shown, one cell per position with its token: rows held from earlier rounds (read
// back ✓), rows written this round and kept (✚), rows written and rolled back (↩, struck through);
// colour, glyph and strike together, never colour alone. Under them each guess with the probability
// the draft gave it and the target's, and the verdict; then the run's totals. Every figure is a field
// of the round or of the script's totals (core/lessons/speculative_script.h); this file only lays out.
#include <algorithm>
#include <string>

#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

// What one cache did this step: positions [0, first) were held before, [first, kept_end) written and
// kept, [kept_end, written_end) written and rolled back.
struct CacheRows {
  const char* label;
  std::string model;
  int first = 0, kept_end = 0, written_end = 0;
};

RowKind kind_at(const CacheRows& rows, int p) {
  return p < rows.first ? RowKind::ReadFromCache : p < rows.kept_end ? RowKind::NewlyComputed : RowKind::RolledBack;
}

// One strip: a label, then a cell per position (the oldest ones folded into one cell when they do not fit).
void draw_cache_strip(PanelContext& c, const CacheRows& rows, float label_w, float width) {
  const StepTrace& t = *c.trace;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float th = ImGui::GetTextLineHeight(), pad = th * 0.25f, gap = th * 0.2f;
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float cell_h = th * 2.2f;
  drawn::AddText(dl, ImVec2(origin.x, origin.y), c.pal->text, rows.label);
  drawn::AddText(dl, ImVec2(origin.x, origin.y + th * 1.1f), c.pal->text_muted,
                 drawn::figure("model_name", 0, rows.model, {{"cache", rows.label}}));
  auto cell_width = [&](int p) {
    const std::string& text = t.context_texts[std::size_t(p)];
    return std::max(ImGui::CalcTextSize(text.c_str()).x, ImGui::CalcTextSize("\xE2\x86\xA9 00").x) + 2 * pad;
  };
  // The newest positions that fit, from the right; older ones fold into one cell.
  const float fold_w = ImGui::CalcTextSize("\xE2\x9C\x93 0\xE2\x80\x93" "00").x + 2 * pad;
  float used = 0.0f;
  int shown_from = rows.written_end;
  while (shown_from > 0 && used + cell_width(shown_from - 1) + gap + fold_w + gap <= width - label_w) {
    used += cell_width(shown_from - 1) + gap;
    --shown_from;
  }
  float x = origin.x + label_w;
  if (shown_from > 0) {  // the folded older rows, all read back (they are before this round's first)
    const ImVec2 a(x, origin.y), z(x + fold_w, origin.y + cell_h);
    dl->AddRectFilled(a, z, c.pal->row[int(RowKind::ReadFromCache)]);
    dl->AddRect(a, z, c.pal->border, 0.0f, 0, 1.0f);
    const std::string range = "\xE2\x9C\x93 " + drawn::figure("position", 0, position_range(0, shown_from - 1), {{"cache", rows.label}});
    drawn::AddText(dl, ImVec2(a.x + pad, a.y + th * 0.1f), c.pal->row_glyph[int(RowKind::ReadFromCache)], range.c_str());
    drawn::AddText(dl, ImVec2(a.x + pad, a.y + th * 1.1f), c.pal->row_glyph[int(RowKind::ReadFromCache)], "earlier");
    x = z.x + gap;
  }
  for (int p = shown_from; p < rows.written_end; ++p) {
    const RowKind kind = kind_at(rows, p);
    const float w = cell_width(p);
    const ImVec2 a(x, origin.y), z(x + w, origin.y + cell_h);
    dl->AddRectFilled(a, z, c.pal->row[int(kind)]);
    dl->AddRect(a, z, c.pal->border, 0.0f, 0, kind == RowKind::ReadFromCache ? 1.0f : 2.0f);
    const ImU32 ink = c.pal->row_glyph[int(kind)];
    const std::string top = std::string(row_kind_glyph(kind)) + " " +
                            drawn::figure("position", p, std::to_string(p), {{"cache", rows.label}});
    drawn::AddText(dl, ImVec2(a.x + pad, a.y + th * 0.1f), ink, top.c_str());
    drawn::AddText(dl, ImVec2(a.x + pad, a.y + th * 1.1f), ink,
                   drawn::figure("token", t.context_ids[std::size_t(p)], t.context_texts[std::size_t(p)]));
    if (kind == RowKind::RolledBack)  // struck through: taken back out of the cache
      dl->AddLine(ImVec2(a.x + pad, a.y + cell_h * 0.5f), ImVec2(z.x - pad, a.y + cell_h * 0.5f), ink, 2.0f);
    c.record->add_rect(kind == RowKind::RolledBack ? "speculation_rolled_back" : "speculation_cells", {a.x, a.y, z.x, z.y});
    x = z.x + gap;
  }
  ImGui::SetCursorScreenPos(origin);
  ImGui::Dummy(ImVec2(width, cell_h + gap));
}

}  // namespace

bool speculation_view_available(const PanelContext& c) {
  return c.speculative && c.trace && c.trace->step < int(c.speculative->traces.size());
}

void draw_speculation_panel(PanelContext& c, float) {
  const drawn::PanelScope scope(c.record, "speculation");
  const SpeculativeScript& script = *c.speculative;
  const StepTrace& t = *c.trace;
  const int step = t.step;
  const SpeculativeRound* round = step > 0 ? &script.rounds[std::size_t(step - 1)] : nullptr;
  const float th = ImGui::GetTextLineHeight();
  const float width = ImGui::GetContentRegionAvail().x;
  const float label_w = std::max(ImGui::CalcTextSize("Target cache").x, ImGui::CalcTextSize(script.draft_name.c_str()).x) + th;

  ImGui::PushFont(c.fonts->title);
  if (!round)
    drawn::Text("Prefill: both caches hold the prompt's %s rows; the target's %s is pending",
                drawn::figure("positions", t.position_end, std::to_string(t.position_end)).c_str(),
                drawn::figure("token", t.next_id, quoted(t.next_text)).c_str());
  else
    drawn::Text("Round %s: the draft guessed %s, the target checked them in one pass and kept %s",
                drawn::figure("round", step - 1, std::to_string(step - 1)).c_str(),
                drawn::figure("drafted", double(round->drafted.size()), std::to_string(round->drafted.size())).c_str(),
                drawn::figure("accepted", round->accepted, std::to_string(round->accepted)).c_str());
  ImGui::PopFont();

  // Each cache from its own counts: what it held before, wrote, and took back.
  CacheRows draft{"Draft cache", script.draft_name}, target{"Target cache", c.model_name};
  if (!round) {
    for (CacheRows* r : {&draft, &target}) r->first = 0, r->kept_end = r->written_end = t.position_end;
  } else {
    draft.first = target.first = round->first_position;
    draft.written_end = round->first_position + round->draft_rows_written;
    draft.kept_end = draft.written_end - round->draft_rows_rolled_back;
    target.written_end = round->first_position + round->target_rows_written;
    target.kept_end = target.written_end - round->target_rows_rolled_back;
  }
  draw_cache_strip(c, draft, label_w, width);
  draw_cache_strip(c, target, label_w, width);
  if (round) {
    drawn::TextDisabled("%s rows written and %s rolled back in each cache (draft: %s one-token passes; target: 1 pass)",
                        drawn::figure("rows_written", round->target_rows_written, std::to_string(round->target_rows_written)).c_str(),
                        drawn::figure("rows_rolled_back", round->target_rows_rolled_back, std::to_string(round->target_rows_rolled_back)).c_str(),
                        drawn::figure("draft_passes", round->draft_passes, std::to_string(round->draft_passes)).c_str());
  }

  // The guesses: how sure each model was, and what the target did with each.
  if (round && !round->drafted.empty() &&
      ImGui::BeginTable("guesses", 5, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
    for (const char* h : {"guess", "draft's p", "target's p", "target's own pick", "verdict"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (std::size_t i = 0; i < round->drafted.size(); ++i) {
      const int p = round->first_position + 1 + int(i);
      const int kept = round->accepted;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      drawn::TextUnformatted(drawn::figure("token", round->drafted[i], quoted(t.context_texts[std::size_t(p)])).c_str());
      ImGui::TableNextColumn();
      drawn::Text("%s", drawn::figure("draft_probability", round->draft_probability[i], format_percent(round->draft_probability[i]),
                                      {{"model", "draft"}}).c_str());
      ImGui::TableNextColumn();
      drawn::Text("%s", drawn::figure("target_probability", round->target_probability[i], format_percent(round->target_probability[i]),
                                      {{"model", "target"}}).c_str());
      ImGui::TableNextColumn();
      const int pick = round->target_argmax[i];
      if (int(i) <= kept)  // past a rejection the target's pick followed a guess it did not keep
        drawn::TextUnformatted(drawn::figure("token", pick, quoted(c.tokenizer->token_text(pick))).c_str());
      else
        drawn::TextDisabled("\xE2\x80\x94");
      ImGui::TableNextColumn();
      const bool accepted = int(i) < kept;
      const bool rejected = int(i) == kept;
      drawn::TextColored(ImGui::ColorConvertU32ToFloat4(accepted ? c.pal->good : rejected ? c.pal->bad : c.pal->text_muted), "%s",
                         accepted ? "\xE2\x9C\x93 kept" : rejected ? "\xE2\x9C\x95 rejected: the target's pick follows" : "not checked (after a rejection)");
    }
    ImGui::EndTable();
  }
  const SpeculativeScript::Totals& total = script.totals[std::size_t(step)];
  drawn::Text("So far: %s new tokens from %s target passes (plain decoding: %s) \xC2\xB7 %s of %s guesses kept \xC2\xB7 %s draft passes",
              drawn::figure("new_tokens", total.new_tokens, std::to_string(total.new_tokens)).c_str(),
              drawn::figure("target_passes", total.target_passes, std::to_string(total.target_passes)).c_str(),
              drawn::figure("plain_passes", total.plain_passes, std::to_string(total.plain_passes)).c_str(),
              drawn::figure("accepted", total.accepted, std::to_string(total.accepted), {{"scope", "total"}}).c_str(),
              drawn::figure("drafted", total.drafted, std::to_string(total.drafted), {{"scope", "total"}}).c_str(),
              drawn::figure("draft_passes", total.draft_passes, std::to_string(total.draft_passes), {{"scope", "total"}}).c_str());
}

}  // namespace kvscope::gui
