#include "gui/app/options.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "core/engine/cache/kv_policy.h"
#include "core/formats/model_source.h"
#include "core/lessons/lesson.h"

namespace kvscope::gui {

namespace {

bool parse_size(const std::string& text, int& w, int& h) {
  char x = 0, extra = 0;
  return std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &extra) == 3 && (x == 'x' || x == 'X') && w >= 320 &&
         h >= 240 && w <= 16384 && h <= 16384;
}

}  // namespace

int parse_options(int argc, char** argv, WindowOptions& out) {
  CLI::App cli{"kvscope: watch a KV cache speed up GPT decoding, step by step"};
  AppOptions& a = out.app;
  std::string size, theme = "light";
  auto* preset = cli.add_option("--preset", a.preset, "built-in model: " + presets_help());
  auto* model = cli.add_option("--model", a.model_dir,
                               "Hugging Face model folder (GPT-2, Llama 3, Qwen2/3, SmolLM2, Mistral, Gemma 3: config.json, "
                               "model.safetensors and tokenizer.json or vocab.json + merges.txt)")
                    ->excludes(preset);
  cli.add_option("--lesson", a.lesson_path,
                 "lesson JSON, or a built-in lesson's name (default: time_flies_fast): " + builtin_lesson_names());
  auto* prompt = cli.add_option("--prompt", a.prompt, "prompt text (token ids for a model without a vocabulary)");
  cli.add_option("--prompt-len", a.prompt_length,
                 "fill the prompt to N tokens from the built-in corpus (long contexts: --preset smollm2-135m --prompt-len 8192)")
      ->check(CLI::PositiveNumber);
  auto* continuation = cli.add_option("--continuation", a.continuation, "teacher-forced continuation; \"\" = model's choice");
  cli.add_option("--layer", a.layer, "layer to show first")->check(CLI::NonNegativeNumber);
  cli.add_option("--head", a.head, "head to show first")->check(CLI::NonNegativeNumber);
  cli.add_option("--window", a.window, "sliding window of W positions (0 = none)")->check(CLI::NonNegativeNumber);
  auto* policy = cli.add_option("--kv-policy", a.kv_policy,
                                "cache policy of the cached pane, measured against full attention: " + kv_policy_items() +
                                    " joined by commas (e.g. sinks:2,window:6)");
  std::vector<std::string> views;
  for (LessonView v : lesson_views()) views.push_back(lesson_view_name(v));
  cli.add_option("--view", a.view, "under the panes first: " + lesson_view_names() + " (the View menu's); default: the lesson's")
      ->check(CLI::IsMember(views));
  std::string left_pane = "uncached";
  cli.add_option("--left-pane", left_pane, "uncached (default) or compared: in a cache_policy lesson with \"compare\", "
                                           "the left pane shows that policy beside the lesson's (two policies side by side)")
      ->check(CLI::IsMember({"uncached", "compared"}))
      ->each([&a](const std::string& v) { a.show_compared = v == "compared"; });
  cli.add_option("--steps", a.steps, "headless: run steps 0..N (prefill + N decode steps), write --screenshot, exit")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--start-step", a.start_step, "open the lesson at step N (runs 0..N) and stay interactive")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--screenshot", a.screenshot, "PNG written after --steps");
  cli.add_option("--frame-stats", a.frame_stats,
                 "with --steps: draw F frames at the last step, print {\"frames\", \"median_ms\", \"p99_ms\"} on stdout, exit")
      ->check(CLI::PositiveNumber);
  cli.add_option("--export-steps", a.export_dir,
                 "headless: write every lesson step as DIR/step_00.png... plus DIR/trace.json (all or nothing), exit");
  cli.add_option("--size", size, "window size WxH (default 1600x900)");
  cli.add_option("--theme", theme, "light (default), dark or high-contrast");
  cli.add_option("--font-scale", a.font_scale, "text size factor (default 1)")->check(CLI::Range(0.5f, 3.0f));
  cli.add_flag("--no-presenter", [&a](std::int64_t) { a.presentation = false; }, "normal text size, not 1/49 of the height");
  cli.add_flag("--fullscreen", out.fullscreen, "start full screen");
  cli.add_option("--state-file", a.state_file, "test hook: append what is shown as JSON lines");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e) == 0 ? -1 : 2;
  } catch (const CLI::ParseError& e) {
    std::cerr << "kvscope: " << e.what() << " (see --help)\n";
    return 2;
  }
  a.has_prompt = prompt->count() > 0;
  a.has_kv_policy = policy->count() > 0;
  if (a.has_kv_policy) {
    try {
      a.kv_policy = parse_kv_policy_option(a.kv_policy).to_string();
    } catch (const std::exception& e) {
      std::cerr << "kvscope: " << e.what() << "\n";
      return 2;
    }
  }
  a.model_chosen = preset->count() > 0 || model->count() > 0;
  a.has_continuation = continuation->count() > 0;
  if (!size.empty() && !parse_size(size, out.width, out.height)) {
    std::cerr << "kvscope: --size must be WxH between 320x240 and 16384x16384, got '" << size << "'\n";
    return 2;
  }
  if (theme == "light") a.theme = ThemeId::Light;
  else if (theme == "dark") a.theme = ThemeId::Dark;
  else if (theme == "high-contrast") a.theme = ThemeId::HighContrast;
  else {
    std::cerr << "kvscope: --theme must be light, dark or high-contrast, got '" << theme << "'\n";
    return 2;
  }
  if (!a.export_dir.empty() && (a.steps >= 0 || !a.screenshot.empty())) {
    std::cerr << "kvscope: --export-steps runs the whole lesson; it does not go with --steps or --screenshot\n";
    return 2;
  }
  if (a.frame_stats > 0 && a.steps < 0) {
    std::cerr << "kvscope: --frame-stats needs --steps (the step to measure)\n";
    return 2;
  }
  if (a.frame_stats == 0 && (a.steps >= 0) != !a.screenshot.empty()) {
    std::cerr << "kvscope: --steps and --screenshot go together (headless path)\n";
    return 2;
  }
  return 0;
}

}  // namespace kvscope::gui
