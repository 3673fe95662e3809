#include "gui/views/caption.h"

namespace kvscope::gui {

CaptionView make_caption_view(const StepTrace& trace, const LessonReport* report, const Lesson& lesson,
                              bool details_below) {
  CaptionView view;
  view.caption = make_caption(trace);
  std::vector<Paragraph>& out = view.paragraphs;
  out.push_back({view.caption.uncached, ParagraphKind::Plain});
  out.push_back({view.caption.cached, ParagraphKind::Plain});
  view.figures = view.caption.figures;
  if (report) {
    const std::vector<Figure>& more = report->figures.figures();
    view.figures.insert(view.figures.end(), more.begin(), more.end());
    for (const std::string& line : report->lines) out.push_back({line, ParagraphKind::LessonLine});
    if (!details_below)
      for (const std::string& line : report->details) out.push_back({line, ParagraphKind::LessonLine});
  }
  const int s = trace.step;
  if (s >= 0 && s < int(lesson.steps.size()) && !lesson.steps[std::size_t(s)].caption.empty())
    out.push_back({lesson.steps[std::size_t(s)].caption, ParagraphKind::Plain});
  return view;
}

}  // namespace kvscope::gui
