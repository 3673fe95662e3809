#pragma once
// Themes (light by default: projectors wash out dark ones), the colour-blind-safe palette (Okabe-Ito
// marks, viridis values), and the fonts: a real TTF rasterised at the size in use, never a scaled
// bitmap.
#include <string>

#include <imgui.h>

#include "gui/draw/heatmap_renderer.h"
#include "gui/views/trace_view.h"

namespace kvscope::gui {

enum class ThemeId { Light, Dark, HighContrast };
const char* theme_name(ThemeId id);

struct Palette {
  ImU32 text, text_muted, panel, border;  // panels are told apart by their borders, on one colour
  ImU32 row[5];        // by RowKind: fill of the marker box
  ImU32 row_glyph[5];  // glyph drawn on the marker box (contrast >= 4.5:1 with the fill)
  ImU32 hover;         // linked-hover highlight (position under the pointer, everywhere)
  ImU32 outline;       // rows computed this step, on the heatmap
  ImU32 newest;        // newest token
  ImU32 series_uncached, series_cached, series_memory;
  ImU32 series_many[6];  // charts of many series (the memory wall's caches), each also with its own mark shape
  ImU32 good, bad;     // the agreement badge
  HeatmapColors heat;
};

const Palette& palette(ThemeId id);
// Applies ImGui colours and sizes for the theme, scaled for a font of font_px.
void apply_theme(ThemeId id, float font_px);

// viridis(t), t in [0, 1] (same fit as shaders/heatmap.frag), for legends and K/V strips.
ImU32 viridis(float t);

// WCAG contrast ratio of two colours (1..21).
float contrast_ratio(ImU32 a, ImU32 b);

struct Fonts {
  ImFont* body = nullptr;
  ImFont* title = nullptr;  // bold, 1.15x
  float body_px = 0.0f;
  bool from_ttf = false;
  std::string warning;      // why the fallback bitmap font is in use
};

// Rebuilds the atlas at body_px (logical pixels) times framebuffer_scale. Call outside a frame; the
// caller recreates the GL font texture afterwards.
Fonts build_fonts(float body_px, float framebuffer_scale);

}  // namespace kvscope::gui
