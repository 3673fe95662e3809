#include "core/lessons/lesson_run.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/error.h"
#include "core/lessons/caption.h"
#include "core/lessons/prompt_fill.h"
#include "core/formats/batch_json.h"
#include "core/formats/trace_json.h"

namespace kvscope {

std::vector<int> encode_text(const Tokenizer& tokenizer, const std::string& text, const std::string& what, TextRole role) {
  if (text.find_first_not_of(" \t\n") == std::string::npos) return {};
  if (tokenizer.has_vocabulary()) {
    try {
      return role == TextRole::Prompt ? tokenizer.encode_prompt(text) : tokenizer.encode(text);
    } catch (const DataError& e) {
      throw DataError(what + ": " + e.what());
    }
  }
  // No vocabulary: ids, "464 3862" or "464,3862".
  std::vector<int> ids;
  const char* p = text.c_str();
  while (*p) {
    if (*p == ' ' || *p == ',' || *p == '#' || *p == '\t' || *p == '\n') {
      ++p;
      continue;
    }
    char* end = nullptr;
    errno = 0;
    const long id = std::strtol(p, &end, 10);
    if (end == p || errno == ERANGE || id < 0 || id > 2147483647L)
      throw DataError(what + ": this model has no vocabulary; type token ids, e.g. 464 3862");
    ids.push_back(int(id));
    p = end;
  }
  return ids;
}

namespace {
Numerics lesson_numerics(const std::string& spec) {
  Numerics n;
  if (!parse_numerics(spec, &n)) throw DataError("\"" + spec + "\" is not a numerics spec");
  return n;
}
}  // namespace

LessonRun::LessonRun(Lesson lesson, LoadedModel model, bool check_fits)
    : lesson_(std::move(lesson)), model_(std::move(model)) {
  const std::string where = lesson_.source.empty() ? "" : lesson_.source + ": ";
  const Tokenizer& tok = *model_.tokenizer;
  if (lesson_.prompt_length > 0) {  // filled from the corpus; a model without a vocabulary reads both as bytes
    try {
      prompt_ids_ = fill_prompt(tok, tok.has_vocabulary() ? encode_text(tok, lesson_.prompt, "prompt", TextRole::Prompt)
                                                          : text_bytes(lesson_.prompt),
                                lesson_.prompt_length);
    } catch (const DataError& e) {
      throw DataError(where + e.what());
    }
  } else {
    prompt_ids_ = encode_text(tok, lesson_.prompt, where + "prompt", TextRole::Prompt);
  }
  if (prompt_ids_.empty()) throw DataError(where + "the prompt is empty");
  forced_ids_ = encode_text(tok, lesson_.continuation, where + "continuation");
  try {
    if (lesson_.kind == LessonKind::PrefixReuse) {
      std::vector<std::vector<int>> questions;
      for (std::size_t i = 0; i < lesson_.questions.size(); ++i)
        questions.push_back(encode_text(tok, lesson_.questions[i], where + "questions[" + std::to_string(i) + "]"));
      script_ = std::make_unique<PrefixScript>(
          run_prefix_script(model_, prompt_ids_, questions, lesson_.questions, lesson_.answer_tokens));
      lesson_steps_ = int(script_->traces.size());
    } else if (lesson_.kind == LessonKind::Speculative) {
      LoadedModel draft = load_preset(lesson_.draft);
      draft.model = with_numerics(draft.model, model_.model->numerics());
      if (check_fits && int(prompt_ids_.size()) + lesson_.answer_tokens > model_.model->config().context_length)
        throw DataError("the prompt (" + std::to_string(prompt_ids_.size()) + " tokens) and " +
                        std::to_string(lesson_.answer_tokens) + " new tokens do not fit the context of " +
                        std::to_string(model_.model->config().context_length));
      speculative_ = std::make_unique<SpeculativeScript>(
          run_speculative_script(model_, draft, prompt_ids_, lesson_.draft_tokens, lesson_.answer_tokens));
      lesson_steps_ = int(speculative_->traces.size());
    } else if (lesson_.kind == LessonKind::MemoryWall) {
      // One sequence for every length: the prompt, then the corpus, to the longest length and its timed tokens.
      const int longest = lesson_.lengths.back() + wall_tokens_past_length(lesson_.timed_tokens);
      if (int(prompt_ids_.size()) > lesson_.lengths.front())
        throw DataError("the prompt (" + std::to_string(prompt_ids_.size()) + " tokens) is longer than the first of \"lengths\"");
      if (longest > model_.model->config().context_length)
        throw DataError("the longest of \"lengths\" and the " + std::to_string(wall_tokens_past_length(lesson_.timed_tokens)) +
                        " tokens timed there (" +
                        std::to_string(longest) + " positions) do not fit " + model_.name + "'s context of " +
                        std::to_string(model_.model->config().context_length));
      std::vector<int> tokens = fill_prompt(tok, prompt_ids_, longest);
      wall_ = std::make_unique<MemoryWall>(model_, std::move(tokens), lesson_.lengths, lesson_.compare, lesson_.timed_tokens);
      lesson_steps_ = wall_->steps();
    } else if (lesson_.kind == LessonKind::Batch) {
      if (!lesson_.policy.empty() || lesson_.window != 0)  // set from the command line or the window's fields
        throw DataError("a batch lesson runs the plain paged cache (no cache policy, no window)");
      batch_ = std::make_unique<BatchScript>(run_batch_script(model_, lesson_, prompt_ids_));
      prompt_ids_ = batch_->session->prompt(0);  // the panes follow sequence 0's own run (greedy, as in the batch)
      session_ = std::make_unique<DecodeSession>(model_.model, model_.tokenizer, SessionOptions{});
      session_->start(prompt_ids_, {});
      lesson_steps_ = batch_->rounds();
      if (check_fits) session_->check_steps(lesson_steps_);
    } else {
      SessionOptions options;
      options.window = lesson_.window;
      if (!lesson_.policy.empty()) options.kv_policy = parse_kv_policy(lesson_.policy);
      session_ = std::make_unique<DecodeSession>(with_numerics(model_.model, lesson_numerics(lesson_.numerics)),
                                                 model_.tokenizer, options);
      session_->start(prompt_ids_, forced_ids_);
      lesson_steps_ = lesson_.steps.empty() ? int(forced_ids_.size()) + 1 : int(lesson_.steps.size());
      if (check_fits) session_->check_steps(lesson_steps_);
      start_compared(options);
    }
  } catch (const DataError& e) {
    const std::string message = e.what();
    throw DataError(message.rfind(where, 0) == 0 ? message : where + message);
  }
  if (int(lesson_.steps.size()) > lesson_steps_)
    throw DataError(where + "\"steps\" has " + std::to_string(lesson_.steps.size()) + " entries but the lesson runs " +
                    std::to_string(lesson_steps_) + " steps");
}

// The other policies see the lesson's tokens only if every token fed is teacher-forced.
void LessonRun::start_compared(SessionOptions options) {
  if (lesson_.compare.empty()) return;
  const std::string where = lesson_.source.empty() ? "" : lesson_.source + ": ";
  if (lesson_steps_ > int(forced_ids_.size()) + 1)
    throw DataError(where + "\"compare\" needs a \"continuation\" of at least " + std::to_string(lesson_steps_ - 1) +
                    " tokens (every policy is fed the same tokens); it has " + std::to_string(forced_ids_.size()));
  const bool precision = lesson_.kind == LessonKind::Precision;
  // cache_policy: cached mode only (rows and attention stay recorded: the window may show a compared run in
  // its left pane); precision: both modes, their difference being the point, and no rows.
  options.run_uncached = precision;
  if (precision) options.record_attention = options.record_rows = false;
  for (const std::string& spec : lesson_.compare) {
    std::shared_ptr<const Model> model = model_.model;
    if (precision)
      model = with_numerics(model, lesson_numerics(spec));
    else
      options.kv_policy = parse_kv_policy(spec);
    compared_.push_back(std::make_unique<DecodeSession>(model, model_.tokenizer, options));
    compared_.back()->start(prompt_ids_, forced_ids_);
  }
}

std::vector<const std::vector<StepTrace>*> LessonRun::compared_histories() const {
  std::vector<const std::vector<StepTrace>*> out;
  for (const std::unique_ptr<DecodeSession>& s : compared_) out.push_back(&s->history());
  return out;
}

int LessonRun::key_step() const {
  if (lesson_.kind == LessonKind::CachePolicy && !compared_.empty() && steps_done() > 0) {
    const std::vector<StepTrace>& own = history();
    int best = 0;
    double widest = -1.0;
    for (int s = 0; s < steps_done(); ++s)
      for (const std::unique_ptr<DecodeSession>& other : compared_) {
        if (s >= int(other->history().size())) continue;
        const double gap = std::abs(own[std::size_t(s)].cached.policy.kl_from_full -
                                    other->history()[std::size_t(s)].cached.policy.kl_from_full);
        if (gap > widest) widest = gap, best = s;
      }
    return best;
  }
  if (speculative_ && lesson_.key_step < 0) {
    // The first round that both kept and took back guesses: both kinds of row on screen.
    const std::vector<SpeculativeRound>& rounds = speculative_->rounds;
    for (std::size_t r = 0; r < rounds.size(); ++r)
      if (rounds[r].accepted > 0 && rounds[r].accepted < int(rounds[r].drafted.size())) return int(r) + 1;
  }
  return lesson_.key_step >= 0 && lesson_.key_step < lesson_steps_ ? lesson_.key_step : lesson_steps_ - 1;
}

LessonInputs LessonRun::inputs() const {
  return LessonInputs{lesson_, model_, prompt_ids_, forced_ids_, script_.get(), compared_histories(), batch_.get(),
                      speculative_.get(), wall_.get()};
}

bool LessonRun::can_step(std::string* why_not) const {
  if (batch_ && steps_done() >= lesson_steps_) {
    if (why_not) *why_not = "every sequence has finished and the pool is free again (round " + std::to_string(lesson_steps_ - 1) + ")";
    return false;
  }
  if (session_) return session_->can_step(why_not);
  if (wall_ && steps_done() < wall_->steps()) return true;
  if (steps_done() < int(script_traces().size())) return true;
  if (why_not) *why_not = "the lesson's script ends after step " + std::to_string((wall_ ? wall_->steps() : int(script_traces().size())) - 1);
  return false;
}

void LessonRun::step() {
  if (session_) {
    session_->step();
    for (std::unique_ptr<DecodeSession>& s : compared_) s->step();
  } else {
    if (!can_step()) throw UsageError("the lesson's script has no more steps");
    if (wall_ && wall_->measured() <= steps_done()) wall_->measure_next();
    script_shown_.push_back(script_traces()[std::size_t(steps_done())]);
  }
  reports_.push_back(make_report(inputs(), history(), steps_done()));
}

bool LessonRun::back() {
  if (reports_.empty()) return false;
  if (session_) {
    session_->back();
    for (std::unique_ptr<DecodeSession>& s : compared_) s->back();
  } else {
    script_shown_.pop_back();
  }
  reports_.pop_back();
  return true;
}

void LessonRun::reset() {
  if (session_) session_->reset();
  for (std::unique_ptr<DecodeSession>& s : compared_) s->reset();
  script_shown_.clear();
  reports_.clear();
}

const std::vector<StepTrace>& LessonRun::history() const { return session_ ? session_->history() : script_shown_; }

nlohmann::json lesson_step_to_json(const LessonRun& run, int step) {
  const StepTrace& t = run.history()[std::size_t(step)];
  nlohmann::json j = step_to_json(t, TraceJsonOptions{});
  if (run.batch()) j["batch_round"] = batch_round_to_json(run.batch()->round(step));
  if (run.speculative() && step > 0)
    j["speculative_round"] = speculative_round_to_json(run.speculative()->rounds[std::size_t(step - 1)], *run.model().tokenizer);
  const Caption c = make_caption(t);
  j["caption"] = {{"title", c.title}, {"uncached", c.uncached}, {"cached", c.cached}, {"badge", c.badge}};
  if (!c.policy.empty()) j["caption"]["policy"] = c.policy;
  const LessonReport& r = run.reports()[std::size_t(step)];
  j["lines"] = r.lines;
  j["details"] = r.details;
  j["numbers"] = r.numbers;
  const std::vector<LessonStep>& steps = run.lesson().steps;
  if (step < int(steps.size())) {
    if (!steps[std::size_t(step)].caption.empty()) j["lesson_caption"] = steps[std::size_t(step)].caption;
    if (!steps[std::size_t(step)].note.empty()) j["note"] = steps[std::size_t(step)].note;
  }
  return j;
}

nlohmann::json lesson_run_to_json(const LessonRun& run) {
  nlohmann::json j;
  const Lesson& l = run.lesson();
  j["lesson"] = {{"name", l.name}, {"title", l.title}, {"kind", lesson_kind_name(l.kind)}, {"source", l.source},
                 {"steps", run.lesson_steps()}, {"key_step", run.key_step()}};
  if (!l.policy.empty()) j["lesson"]["policy"] = l.policy;
  if (!l.compare.empty()) j["lesson"]["compare"] = l.compare;
  if (l.kind == LessonKind::Speculative) j["lesson"]["draft"] = l.draft, j["lesson"]["draft_tokens"] = l.draft_tokens;
  if (l.kind == LessonKind::Precision) j["lesson"]["numerics"] = l.numerics;
  if (l.kind == LessonKind::MemoryWall) j["lesson"]["lengths"] = l.lengths, j["lesson"]["timed_tokens"] = l.timed_tokens;
  j["model"] = run.model().name;
  const ModelConfig& config = run.model().model->config();
  j["config"] = {{"n_layer", config.n_layer},       {"n_head", config.n_head},
                 {"n_kv_head", config.kv_heads()},   {"d_head", config.d_head()},
                 {"context_length", config.context_length}, {"layer_windows", config.layer_windows}};
  j["steps"] = nlohmann::json::array();
  for (int s = 0; s < run.steps_done(); ++s) j["steps"].push_back(lesson_step_to_json(run, s));
  return j;
}

}  // namespace kvscope
