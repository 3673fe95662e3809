#pragma once
// The step's caption is written in core (core/lessons/caption.h) so kvscope-cli prints the same words;
// the window uses it under the same names. CaptionView is what the caption box draws: built by the App
// when the step shown changes (not every frame), measured and drawn by panel_caption.cpp.
#include <string>
#include <vector>

#include "core/engine/session/trace.h"
#include "core/lessons/caption.h"
#include "core/lessons/lesson.h"
#include "core/lessons/lesson_report.h"

namespace kvscope::gui {
using kvscope::Caption;
using kvscope::make_caption;

enum class ParagraphKind { Plain, LessonLine };  // a lesson line is drawn after a bullet

struct Paragraph {
  std::string text;
  ParagraphKind kind = ParagraphKind::Plain;
};

struct CaptionView {
  Caption caption;                    // title, badge and the two modes' sentences
  std::vector<Paragraph> paragraphs;  // under the title, in order
  std::vector<Figure> figures;        // every number in the title, badge and paragraphs (the ledger)
};

// details_below: a lesson view under the panes draws the report's details, so the caption leaves them
// out. report may be null (no lesson lines).
CaptionView make_caption_view(const StepTrace& trace, const LessonReport* report, const Lesson& lesson,
                              bool details_below);

}  // namespace kvscope::gui
