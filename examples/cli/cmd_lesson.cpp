// kvscope-cli lesson: run a lesson (a file, or a built-in lesson's name) to its end and print each
// step's caption, the lesson's computed lines and the teacher's note: the same words and numbers the
// window shows (they come from core/caption.h and core/lesson_report.h).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/error.h"
#include "core/lessons/caption.h"
#include "core/lessons/lesson_run.h"
#include "examples/cli/commands.h"
#include "examples/cli/model_options.h"

namespace kvscope::cli {

namespace {

struct LessonOptions {
  ModelOptions model;
  bool model_chosen = false;  // --preset or --model given: else the lesson's own preset
  std::string file;
  std::string kv_policy;  // replaces the lesson's own "policy" when given
  bool kv_policy_given = false;
  bool json = false, list = false;
};

void print_header(const LessonRun& run) {
  const Lesson& l = run.lesson();
  const ModelConfig& c = run.model().model->config();
  std::printf("Lesson: %s (%s, kind %s)\n", l.title.c_str(), l.source.c_str(), lesson_kind_name(l.kind));
  std::printf("Model: %s \xC2\xB7 %d layers \xC2\xB7 %d heads \xC2\xB7 context %d \xC2\xB7 %d steps\n", run.model().name.c_str(),
              c.n_layer, c.n_head, c.context_length, run.lesson_steps());
  if (!l.summary.empty()) std::printf("%s\n", l.summary.c_str());
}

void print_step(const LessonRun& run, int s) {
  const StepTrace& t = run.history()[std::size_t(s)];
  const Caption c = make_caption(t);
  std::printf("\n%s%s   [%s]\n", c.title.c_str(), s == run.key_step() ? "  (key step)" : "", c.badge.c_str());
  std::printf("  %s\n  %s\n", c.uncached.c_str(), c.cached.c_str());
  if (!c.policy.empty()) std::printf("  %s\n", c.policy.c_str());
  std::printf("  next \xE2\x86\x92 %s%s\n", quoted(t.next_text).c_str(), t.forced ? " (teacher-forced)" : " (model's choice)");
  const LessonReport& r = run.reports()[std::size_t(s)];
  for (const std::string& line : r.lines) std::printf("  \xE2\x96\xB8 %s\n", line.c_str());
  for (const std::string& line : r.details) std::printf("    %s\n", line.c_str());
  const std::vector<LessonStep>& steps = run.lesson().steps;
  if (s < int(steps.size())) {
    if (!steps[std::size_t(s)].caption.empty()) std::printf("  %s\n", steps[std::size_t(s)].caption.c_str());
    if (!steps[std::size_t(s)].note.empty()) std::printf("  Note: %s\n", steps[std::size_t(s)].note.c_str());
  }
}

int run_lesson(const LessonOptions& o) {
  if (o.list) {
    for (const Lesson& l : builtin_lessons()) std::printf("%-26s %s\n", l.name.c_str(), l.title.c_str());
    return 0;
  }
  if (o.file.empty()) throw UsageError("give a lesson file or a built-in lesson's name (--list shows them)");
  Lesson lesson = load_lesson(o.file);
  if (o.kv_policy_given) {
    lesson.policy = parse_kv_policy_option(o.kv_policy).to_string();
    if (lesson.kind == LessonKind::PrefixReuse) throw UsageError("--kv-policy: a prefix_reuse lesson runs the plain cache");
  }
  ModelOptions model = o.model;
  if (!o.model_chosen && !lesson.preset.empty()) model.preset = lesson.preset;
  LessonRun run(lesson, model.load());
  for (int s = 0; s < run.lesson_steps(); ++s) run.step();
  if (o.json) {
    std::cout << lesson_run_to_json(run).dump() << "\n";
    return 0;
  }
  print_header(run);
  for (int s = 0; s < run.steps_done(); ++s) print_step(run, s);
  return 0;
}

void add_lesson_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<LessonOptions>();
  CLI::App* cmd = app.add_subcommand("lesson", "run a lesson and print its captions, computed checks and notes");
  cmd->add_option("file", o->file, "lesson JSON, or a built-in lesson's name (see --list)");
  o->model.add_to(*cmd);
  cmd->add_flag("--json", o->json, "one JSON document: every step's trace, caption, lines and numbers");
  cmd->add_flag("--list", o->list, "list the built-in lessons");
  cmd->add_option("--kv-policy", o->kv_policy, "cache policy for the cached mode instead of the lesson's own (see generate)");
  cmd->callback([o, &run, cmd] {
    o->model_chosen = cmd->count("--preset") > 0 || cmd->count("--model") > 0;
    o->kv_policy_given = cmd->count("--kv-policy") > 0;
    run = [o] { return run_lesson(*o); };
  });
}

const CommandRegistrar registrar(15, add_lesson_command);

}  // namespace
}  // namespace kvscope::cli
