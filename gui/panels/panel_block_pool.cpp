// The block-pool view of a batch lesson: every block of the paged cache's pool as a cell, filled with
// the colour of the sequence holding it (its label written on it too: colour is never the only cue),
// a shared block split between its holders and marked with its reference count, the blocks this round
// allocated, copied or freed outlined; beside it each sequence's block table with the tokens each block
// holds. Everything is a field of the round (core/engine/session/batch_session.h: block tables, reference
// counts, ledger, events); this file only draws it.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "core/engine/session/tokenizer.h"
#include "gui/panels/panels.h"

namespace kvscope::gui {

namespace {

// Okabe–Ito, distinguishable with every common colour-vision deficiency; the label carries it too.
constexpr ImU32 kSequenceFill[] = {IM_COL32(0xE6, 0x9F, 0x00, 255), IM_COL32(0x56, 0xB4, 0xE9, 255),
                                   IM_COL32(0x00, 0x9E, 0x73, 255), IM_COL32(0xCC, 0x79, 0xA7, 255),
                                   IM_COL32(0xF0, 0xE4, 0x42, 255), IM_COL32(0x00, 0x72, 0xB2, 255),
                                   IM_COL32(0xD5, 0x5E, 0x00, 255)};

ImU32 sequence_fill(int sequence) { return kSequenceFill[std::size_t(sequence) % std::size(kSequenceFill)]; }

ImU32 text_on(ImU32 fill) {
  const ImU32 dark = IM_COL32(0x11, 0x11, 0x11, 255), light = IM_COL32(0xFF, 0xFF, 0xFF, 255);
  return contrast_ratio(fill, dark) >= contrast_ratio(fill, light) ? dark : light;
}

// What happened to a block in this round, for its outline and tag.
enum class BlockMark { None, New, Copy, Freed };

struct PoolPicture {
  std::map<int, std::vector<int>> holders;  // block -> sequences whose table has it
  std::map<int, BlockMark> marks;
  std::map<int, int> copied_from;           // copy -> original
};

PoolPicture picture_of(const BatchRound& round) {
  PoolPicture p;
  for (const SequenceRound& s : round.sequences)
    for (int b : s.block_table) p.holders[b].push_back(s.sequence);
  for (const BlockEvent& e : round.events) {
    if (e.block < 0) continue;
    if (e.kind == BlockEventKind::Allocate) p.marks[e.block] = BlockMark::New;
    if (e.kind == BlockEventKind::CopyOnWrite) p.marks[e.block] = BlockMark::Copy, p.copied_from[e.block] = e.other;
    if (e.kind == BlockEventKind::Free && !p.holders.count(e.block)) p.marks[e.block] = BlockMark::Freed;
  }
  return p;
}

std::string sequence_label(int sequence) { return "S" + std::to_string(sequence); }

// The pool: a grid of cells, block ids in order.
void draw_pool(PanelContext& c, const BatchRound& round, const PoolPicture& pic, float width) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float th = ImGui::GetTextLineHeight();
  const int n = int(round.ref_counts.size());
  // Wide enough for its two lines: the block id with its tag ("#10 freed"), and its holders ("S0 S1").
  const float cell_w = std::max({ImGui::CalcTextSize("S0 S1 \xC3\x97" "3").x + th * 0.6f,
                                 ImGui::CalcTextSize("#00 freed").x + th * 0.9f, th * 4.2f}),
              cell_h = th * 2.1f;
  const float gap = th * 0.3f;
  const int per_row = std::max(1, int((width + gap) / (cell_w + gap)));
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  for (int b = 0; b < n; ++b) {
    const ImVec2 a(origin.x + float(b % per_row) * (cell_w + gap), origin.y + float(b / per_row) * (cell_h + gap));
    const ImVec2 z(a.x + cell_w, a.y + cell_h);
    const auto it = pic.holders.find(b);
    const std::vector<int> holders = it == pic.holders.end() ? std::vector<int>{} : it->second;
    std::string label;
    ImU32 ink = c.pal->text_muted;
    if (holders.empty()) {
      dl->AddRectFilled(a, z, c.pal->panel);
      label = "free";
    } else {  // split between holders, left to right
      const float part = cell_w / float(holders.size());
      for (std::size_t i = 0; i < holders.size(); ++i)
        dl->AddRectFilled(ImVec2(a.x + part * float(i), a.y), ImVec2(a.x + part * float(i + 1), z.y), sequence_fill(holders[i]));
      for (int s : holders) label += (label.empty() ? "" : " ") + sequence_label(s);
      ink = text_on(sequence_fill(holders.front()));
    }
    const BlockMark mark = pic.marks.count(b) ? pic.marks.at(b) : BlockMark::None;
    const bool shared = round.ref_counts[std::size_t(b)] > 1;
    const float line = mark != BlockMark::None || shared ? th * 0.18f : 1.0f;
    dl->AddRect(a, z, mark == BlockMark::Freed ? c.pal->text_muted : c.pal->text, 2.0f, 0, line);
    char top[32];
    std::snprintf(top, sizeof top, "%s", drawn::figure("block", b, "#" + std::to_string(b)).c_str());
    drawn::AddText(dl, ImVec2(a.x + th * 0.25f, a.y + th * 0.1f), ink, top);
    const char* tag = mark == BlockMark::New ? "new" : mark == BlockMark::Copy ? "copy" : mark == BlockMark::Freed ? "freed" : "";
    if (shared) {
      char count[16];
      std::snprintf(count, sizeof count, "\xC3\x97%s",
                    drawn::figure("reference_count", round.ref_counts[std::size_t(b)], std::to_string(round.ref_counts[std::size_t(b)]),
                                  {{"block", b}}).c_str());
      drawn::AddText(dl, ImVec2(z.x - ImGui::CalcTextSize(count).x - th * 0.25f, a.y + th * 0.1f), ink, count);
    } else if (*tag) {
      drawn::AddText(dl, ImVec2(z.x - ImGui::CalcTextSize(tag).x - th * 0.25f, a.y + th * 0.1f), ink, tag);
    }
    drawn::AddText(dl, ImVec2(a.x + th * 0.25f, a.y + th * 1.0f), ink, label.c_str());
    c.record->add_rect("pool_blocks", {a.x, a.y, z.x, z.y});
    ImGui::SetCursorScreenPos(a);
    ImGui::InvisibleButton(("block" + std::to_string(b)).c_str(), ImVec2(cell_w, cell_h));
    if (ImGui::IsItemHovered()) {
      std::string tip = "Block " + drawn::figure("block", b, std::to_string(b)) + ": ";
      tip += holders.empty() ? std::string("free")
                             : "held by " + label + ", reference count " +
                                   drawn::figure("reference_count", round.ref_counts[std::size_t(b)],
                                                 std::to_string(round.ref_counts[std::size_t(b)]), {{"block", b}});
      if (pic.copied_from.count(b))
        tip += "\ncopied this round from block " + drawn::figure("block", pic.copied_from.at(b), std::to_string(pic.copied_from.at(b))) +
               " (copy on write)";
      drawn::SetTooltip("%s", tip.c_str());
    }
  }
  const int rows = (n + per_row - 1) / per_row;
  ImGui::SetCursorScreenPos(origin);
  ImGui::Dummy(ImVec2(width, float(rows) * (cell_h + gap)));
}

// One sequence's block table: a chip per block with the tokens it holds, shared blocks outlined.
void draw_table(PanelContext& c, const BatchRound& round, const SequenceRound& s, const Tokenizer& tokenizer, int block_size,
                const std::string& origin, float width) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float th = ImGui::GetTextLineHeight(), pad = th * 0.25f, gap = th * 0.3f;
  const ImU32 fill = sequence_fill(s.sequence);
  std::string head = sequence_label(s.sequence) + " \xC2\xB7 " + sequence_state_name(s.state) + " \xC2\xB7 " +
                     drawn::figure("sequence_origin", s.sequence, origin);  // the script's words: "joined in round 2"
  if (s.ran && s.rows_recomputed > 0)
    head += " \xC2\xB7 " + drawn::figure("rows_recomputed", s.rows_recomputed, std::to_string(s.rows_recomputed), {{"sequence", s.sequence}}) +
            " rows recomputed";
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float swatch = th * 0.8f;
  dl->AddRectFilled(ImVec2(p.x, p.y + th * 0.1f), ImVec2(p.x + swatch, p.y + th * 0.1f + swatch), fill);
  dl->AddRect(ImVec2(p.x, p.y + th * 0.1f), ImVec2(p.x + swatch, p.y + th * 0.1f + swatch), c.pal->text);
  ImGui::SetCursorScreenPos(ImVec2(p.x + swatch + pad * 2, p.y));
  drawn::TextUnformatted(head.c_str());
  if (s.block_table.empty()) {
    drawn::TextDisabled("  holds no blocks");
    return;
  }
  float x = 0.0f;
  ImVec2 row = ImGui::GetCursorScreenPos();
  const float chip_h = th + pad * 2;
  for (std::size_t i = 0; i < s.block_table.size(); ++i) {
    const int b = s.block_table[i];
    std::string text = drawn::figure("block", b, "#" + std::to_string(b)) + " ";
    const int first = int(i) * block_size, last = std::min(s.cached, first + block_size);
    for (int pos = first; pos < last && pos < int(s.tokens.size()); ++pos) {
      std::string t = drawn::figure("token", s.tokens[std::size_t(pos)], tokenizer.token_text(s.tokens[std::size_t(pos)]));
      text += (pos > first && !t.empty() && t[0] != ' ' ? " " : "") + t;
    }
    const float w = ImGui::CalcTextSize(text.c_str()).x + pad * 2;
    if (x > 0 && x + w > width) {
      x = 0;
      row.y += chip_h + gap;
    }
    const ImVec2 a(row.x + x, row.y), z(a.x + w, a.y + chip_h);
    const bool shared = round.ref_counts[std::size_t(b)] > 1;
    dl->AddRectFilled(a, z, fill, 3.0f);
    dl->AddRect(a, z, c.pal->text, 3.0f, 0, shared ? th * 0.18f : 1.0f);
    drawn::AddText(dl, ImVec2(a.x + pad, a.y + pad), text_on(fill), text.c_str());
    x += w + gap;
  }
  ImGui::SetCursorScreenPos(row);
  ImGui::Dummy(ImVec2(width, chip_h + gap));
}

}  // namespace

bool block_pool_view_available(const PanelContext& c) {
  return c.batch && c.trace && int(c.history->size()) <= c.batch->rounds();
}

void draw_block_pool_panel(PanelContext& c, float) {
  const drawn::PanelScope scope(c.record, "block_pool");
  const int step = int(c.history->size()) - 1;
  const BatchRound& round = c.batch->round(step);
  const PoolLedger& l = round.ledger;
  const int block_size = c.batch->session->options().block_size;
  ImGui::PushFont(c.fonts->title);
  drawn::Text("Block pool, round %s: %s of %s blocks in use, %s shared, %s free \xC2\xB7 %s positions per block",
              drawn::figure("round", round.round, std::to_string(round.round)).c_str(),
              drawn::figure("blocks_in_use", l.blocks_in_use, std::to_string(l.blocks_in_use)).c_str(),
              drawn::figure("blocks_total", l.blocks_total, std::to_string(l.blocks_total)).c_str(),
              drawn::figure("blocks_shared", l.blocks_shared, std::to_string(l.blocks_shared)).c_str(),
              drawn::figure("blocks_free", l.blocks_free, std::to_string(l.blocks_free)).c_str(),
              drawn::figure("block_size", block_size, std::to_string(block_size)).c_str());
  ImGui::PopFont();
  const float gap = ImGui::GetStyle().ItemSpacing.x * 3.0f;
  const float total = ImGui::GetContentRegionAvail().x;
  const float pool_w = std::min(total * 0.5f, ImGui::GetTextLineHeight() * 40.0f);
  const PoolPicture pic = picture_of(round);
  ImGui::BeginGroup();
  draw_pool(c, round, pic, pool_w);
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + pool_w);
  if (c.report) {
    drawn::figures(c.report->figures.figures());
    for (const std::string& line : c.report->details) drawn::TextWrapped("%s", line.c_str());
  }
  ImGui::PopTextWrapPos();
  ImGui::EndGroup();
  ImGui::SameLine(0, gap);
  // The tables scroll when there are more sequences than fit.
  ImGui::BeginChild("block_tables", ImVec2(0, ImGui::GetContentRegionAvail().y), false);
  const float tables_w = ImGui::GetContentRegionAvail().x;
  drawn::TextUnformatted("Block tables (thick outline: shared; \xC3\x97 reference count)");
  for (const SequenceRound& s : round.sequences)
    draw_table(c, round, s, *c.tokenizer, block_size, c.batch->origins[std::size_t(s.sequence)], tables_w);
  ImGui::EndChild();
}

}  // namespace kvscope::gui
