#include "gui/draw/theme.h"

#include <algorithm>
#include <cmath>
#include <fstream>

namespace kvscope::gui {

namespace {

constexpr ImU32 rgb(unsigned hex) {
  return IM_COL32((hex >> 16) & 0xFF, (hex >> 8) & 0xFF, hex & 0xFF, 0xFF);
}
void to_float3(ImU32 c, float out[3]) {
  out[0] = float(c & 0xFF) / 255.0f;
  out[1] = float((c >> 8) & 0xFF) / 255.0f;
  out[2] = float((c >> 16) & 0xFF) / 255.0f;
}
ImVec4 to_vec4(ImU32 c, float alpha = 1.0f) {
  float f[3];
  to_float3(c, f);
  return ImVec4(f[0], f[1], f[2], alpha);
}

// Okabe-Ito: blue 0072B2, orange E69F00, bluish green 009E73, reddish purple CC79A7, sky blue 56B4E9,
// vermillion D55E00, yellow F0E442. Row kinds differ in glyph and label too, never by colour alone.
Palette make_light() {
  Palette p{};
  p.text = rgb(0x111111);
  p.text_muted = rgb(0x4A4A4A);  // 8.9:1 on the panel
  p.panel = rgb(0xFFFFFF);
  p.border = rgb(0x5A5A5A);
  p.row[int(RowKind::NewlyComputed)] = rgb(0x0072B2);
  p.row[int(RowKind::Recomputed)] = rgb(0xE69F00);
  p.row[int(RowKind::ReadFromCache)] = rgb(0x56B4E9);
  p.row[int(RowKind::Evicted)] = rgb(0xCC79A7);
  p.row_glyph[int(RowKind::NewlyComputed)] = rgb(0xFFFFFF);
  p.row_glyph[int(RowKind::Recomputed)] = rgb(0x000000);
  p.row_glyph[int(RowKind::ReadFromCache)] = rgb(0x000000);
  p.row_glyph[int(RowKind::Evicted)] = rgb(0x000000);
  p.row[int(RowKind::RolledBack)] = rgb(0xD55E00);
  p.row_glyph[int(RowKind::RolledBack)] = rgb(0x000000);
  p.hover = IM_COL32(0xF0, 0xE4, 0x42, 0xC0);  // yellow wash behind hovered rows
  p.outline = rgb(0xD55E00);
  p.newest = rgb(0x0072B2);
  p.series_uncached = rgb(0xD55E00);
  p.series_cached = rgb(0x0072B2);
  p.series_memory = rgb(0x009E73);
  const unsigned many_light[6] = {0x000000, 0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0x8C6A00};
  for (int i = 0; i < 6; ++i) p.series_many[i] = rgb(many_light[i]);
  p.good = rgb(0x005A8C);
  p.bad = rgb(0xA33F00);
  to_float3(rgb(0xC8C8C8), p.heat.masked);
  to_float3(rgb(0x8A8A8A), p.heat.hatch);
  to_float3(rgb(0xF4F4F4), p.heat.empty);
  to_float3(rgb(0xFFFFFF), p.heat.grid);
  return p;
}

Palette make_dark() {
  Palette p = make_light();
  p.text = rgb(0xF2F2F2);
  p.text_muted = rgb(0xC4C4C4);
  p.panel = rgb(0x222222);
  p.border = rgb(0xA0A0A0);
  p.row[int(RowKind::NewlyComputed)] = rgb(0x56B4E9);
  p.row_glyph[int(RowKind::NewlyComputed)] = rgb(0x000000);
  p.row[int(RowKind::ReadFromCache)] = rgb(0x009E73);
  p.hover = IM_COL32(0xF0, 0xE4, 0x42, 0x60);
  p.outline = rgb(0xF0E442);
  p.newest = rgb(0x56B4E9);
  p.series_uncached = rgb(0xE69F00);
  p.series_cached = rgb(0x56B4E9);
  const unsigned many_dark[6] = {0xFFFFFF, 0x56B4E9, 0xE69F00, 0x009E73, 0xCC79A7, 0xF0E442};
  for (int i = 0; i < 6; ++i) p.series_many[i] = rgb(many_dark[i]);
  p.good = rgb(0x7FCBF2);
  p.bad = rgb(0xF5A25D);
  to_float3(rgb(0x4A4A4A), p.heat.masked);
  to_float3(rgb(0x8A8A8A), p.heat.hatch);
  to_float3(rgb(0x2A2A2A), p.heat.empty);
  to_float3(rgb(0x161616), p.heat.grid);
  return p;
}

Palette make_high_contrast() {
  Palette p = make_dark();
  p.text = rgb(0xFFFFFF);
  p.text_muted = rgb(0xFFFFFF);
  p.panel = rgb(0x000000);
  p.border = rgb(0xFFFFFF);
  p.row[int(RowKind::Recomputed)] = rgb(0xF0E442);
  p.hover = IM_COL32(0xFF, 0xFF, 0xFF, 0x50);
  p.outline = rgb(0xFFFFFF);
  p.good = rgb(0xFFFFFF);
  p.bad = rgb(0xF0E442);
  to_float3(rgb(0x000000), p.heat.empty);
  to_float3(rgb(0x000000), p.heat.grid);
  return p;
}

float linear_channel(float c) { return c <= 0.03928f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f); }
float luminance(ImU32 c) {
  float f[3];
  to_float3(c, f);
  return 0.2126f * linear_channel(f[0]) + 0.7152f * linear_channel(f[1]) + 0.0722f * linear_channel(f[2]);
}

}  // namespace

const char* theme_name(ThemeId id) {
  switch (id) {
    case ThemeId::Light: return "Light";
    case ThemeId::Dark: return "Dark";
    case ThemeId::HighContrast: return "High contrast";
  }
  return "?";
}

const Palette& palette(ThemeId id) {
  static const Palette light = make_light(), dark = make_dark(), high = make_high_contrast();
  return id == ThemeId::Light ? light : id == ThemeId::Dark ? dark : high;
}

float contrast_ratio(ImU32 a, ImU32 b) {
  const float la = luminance(a), lb = luminance(b);
  return (std::max(la, lb) + 0.05f) / (std::min(la, lb) + 0.05f);
}

ImU32 viridis(float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  static const float c[7][3] = {{0.2777273272234177f, 0.005407344544966578f, 0.3340998053353061f},
                                {0.1050930431085774f, 1.404613529898575f, 1.384590162594685f},
                                {-0.3308618287255563f, 0.214847559468213f, 0.09509516302823659f},
                                {-4.634230498983486f, -5.799100973351585f, -19.33244095627987f},
                                {6.228269936347081f, 14.17993336680509f, 56.69055260068105f},
                                {4.776384997670288f, -13.74514537774601f, -65.35303263337234f},
                                {-5.435455855934631f, 4.645852612178535f, 26.3124352495832f}};
  float out[3];
  for (int ch = 0; ch < 3; ++ch) {
    float v = c[6][ch];
    for (int k = 5; k >= 0; --k) v = c[k][ch] + t * v;
    out[ch] = std::clamp(v, 0.0f, 1.0f);
  }
  return IM_COL32(int(out[0] * 255.0f + 0.5f), int(out[1] * 255.0f + 0.5f), int(out[2] * 255.0f + 0.5f), 255);
}

void apply_theme(ThemeId id, float font_px) {
  const Palette& p = palette(id);
  ImGuiStyle style;
  if (id == ThemeId::Light)
    ImGui::StyleColorsLight(&style);
  else
    ImGui::StyleColorsDark(&style);
  ImVec4* c = style.Colors;
  c[ImGuiCol_Text] = to_vec4(p.text);
  c[ImGuiCol_TextDisabled] = to_vec4(p.text_muted);
  // One colour under every panel, painted once by the frame's clear: a child window filling itself again
  // doubles what a software rasteriser (llvmpipe, Xvfb, many classroom VMs) shades each frame.
  c[ImGuiCol_WindowBg] = to_vec4(p.panel);
  c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_PopupBg] = to_vec4(p.panel);
  c[ImGuiCol_Border] = to_vec4(p.border, 0.6f);
  if (id == ThemeId::Light) {
    c[ImGuiCol_FrameBg] = to_vec4(rgb(0xE6E6E6));
    c[ImGuiCol_Button] = to_vec4(rgb(0xD6E6F2));
    c[ImGuiCol_ButtonHovered] = to_vec4(rgb(0xB3D4EC));
    c[ImGuiCol_ButtonActive] = to_vec4(rgb(0x8CC0E6));
  }
  if (id == ThemeId::HighContrast) {
    c[ImGuiCol_FrameBg] = to_vec4(rgb(0x000000));
    c[ImGuiCol_Button] = to_vec4(rgb(0x000000));
    c[ImGuiCol_ButtonHovered] = to_vec4(rgb(0x333333));
    c[ImGuiCol_Border] = to_vec4(rgb(0xFFFFFF));
    style.FrameBorderSize = 1.0f;
  }
  style.WindowRounding = 0.0f;
  // Square corners: a rounded, anti-aliased outline is dozens of triangles, and every panel and field has one.
  style.ChildRounding = 0.0f;
  style.FrameRounding = 0.0f;
  style.ScaleAllSizes(font_px / 16.0f);
  ImGui::GetStyle() = style;
}

Fonts build_fonts(float body_px, float framebuffer_scale) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  Fonts fonts;
  fonts.body_px = body_px;
  // Latin-1 plus the marks the panes use: dashes, ellipsis, arrows (↻ ← →), ✓ ✕ ✚, Greek (Δ, θ), ≠, ≤, ■ ▶.
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0391, 0x03C9, 0x2013, 0x2016, 0x2022, 0x2022, 0x2026, 0x2026,
                                   0x2190, 0x21FF, 0x2212, 0x2212, 0x2248, 0x2248, 0x2260, 0x2265, 0x25A0, 0x25FF,
                                   0x26A0, 0x26A0, 0x2713, 0x2715, 0x271A, 0x271A, 0};
  const std::string regular = std::string(KVSCOPE_FONT_DIR) + "/DejaVuSans.ttf";
  const std::string bold = std::string(KVSCOPE_FONT_DIR) + "/DejaVuSans-Bold.ttf";
  const float scale = framebuffer_scale > 0.0f ? framebuffer_scale : 1.0f;
  ImFontConfig config;
  // Glyphs rasterised once at their drawn size and placed on whole pixels: the atlas is then sampled texel
  // for texel (App::update_fonts), which llvmpipe shades ~1.5 ms a frame faster at 1080p than bilinear.
  config.OversampleH = 1;
  config.OversampleV = 1;
  config.PixelSnapH = true;
  if (std::ifstream(regular).good() && std::ifstream(bold).good()) {
    fonts.body = io.Fonts->AddFontFromFileTTF(regular.c_str(), std::round(body_px * scale), &config, ranges);
    fonts.title = io.Fonts->AddFontFromFileTTF(bold.c_str(), std::round(body_px * 1.15f * scale), &config, ranges);
  }
  fonts.from_ttf = fonts.body && fonts.title;
  if (!fonts.from_ttf) {
    io.Fonts->Clear();
    fonts.warning = "DejaVu Sans not found in " + std::string(KVSCOPE_FONT_DIR) +
                    " (install fonts-dejavu-core): using ImGui's small bitmap font";
    fonts.body = fonts.title = io.Fonts->AddFontDefault();
  }
  io.FontGlobalScale = fonts.from_ttf ? 1.0f / scale : body_px / 13.0f;
  io.FontDefault = fonts.body;
  io.Fonts->Build();
  return fonts;
}

}  // namespace kvscope::gui
