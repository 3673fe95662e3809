#include "core/lessons/lesson_report.h"

#include <algorithm>
#include <cstdio>

#include "core/engine/forward/numerics.h"
#include "core/lessons/caption.h"

namespace kvscope {

namespace {

using nlohmann::json;

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}


// A count as written, declared: "12" (count) or "12 rows" (counted).
std::string count(FigureLog& f, const char* quantity, std::int64_t n, json context = json::object()) {
  return f.note(quantity, double(n), std::to_string(n), std::move(context));
}

std::string counted(FigureLog& f, const char* quantity, std::int64_t n, const char* one, const char* many,
                    json context = json::object()) {
  return f.note(quantity, double(n), std::to_string(n) + " " + (n == 1 ? one : many), std::move(context));
}

// A measured value as written by fmt(format), declared.
std::string measured(FigureLog& f, const char* quantity, double value, const char* format, json context = json::object()) {
  return f.note(quantity, value, fmt(format, value), std::move(context));
}

std::string difference(FigureLog& f, const char* quantity, double value, json context = json::object()) {
  return f.note(quantity, value, format_difference(value), std::move(context));
}

std::string positions_text(FigureLog& f, const std::vector<int>& positions) {
  return f.note("position", positions.empty() ? 0.0 : double(positions.front()), position_list(positions));
}

std::string text_of(const Tokenizer& tokenizer, const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : " ") + tokenizer.token_text(id);
  return s;
}

// ---- decode: the cost ledger --------------------------------------------------------------------------

void report_ledger(const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const StepTrace& t = history[step];
  if (!t.both_ran()) return;
  const ModeTrace &u = t.uncached, &c = t.cached;
  const double ratio = c.total_macs > 0 ? double(u.total_macs) / double(c.total_macs) : 0.0;
  FigureLog& f = r.figures;
  const json uncached = {{"mode", "uncached"}, {"scope", "total"}}, cached = {{"mode", "cached"}, {"scope", "total"}};
  r.lines.push_back("Ledger after " + counted(f, "steps", step + 1, "step", "steps") + ": K/V rows projected " +
                    f.note("rows_computed", double(u.total_rows_computed), format_count(u.total_rows_computed), uncached) +
                    " without a cache vs " +
                    f.note("rows_computed", double(c.total_rows_computed), format_count(c.total_rows_computed), cached) +
                    " with one; multiply-adds " + f.note("macs", double(u.total_macs), format_short_count(double(u.total_macs)), uncached) +
                    " vs " + f.note("macs", double(c.total_macs), format_short_count(double(c.total_macs)), cached) + " (" +
                    measured(f, "macs_ratio", ratio, "%.2f") + "\xC3\x97).");
  // The newest query's keys per layer (a window or policy may leave fewer), grouped by count: one number
  // when every layer reads as many, else which layers read how many (local and global layers).
  std::vector<std::pair<int, std::vector<int>>> groups;  // (keys read, layers)
  for (int l = 0; l < int(c.forward.layers.size()); ++l) {
    const int reads = c.forward.layers[std::size_t(l)].row_keys_read.back();
    auto it = std::find_if(groups.begin(), groups.end(), [reads](const auto& g) { return g.first == reads; });
    if (it == groups.end()) it = groups.insert(groups.end(), {reads, {}});
    it->second.push_back(l);
  }
  std::string reads_text;
  if (groups.size() == 1) {
    reads_text = counted(f, "keys_read", groups[0].first, "K/V row", "K/V rows", {{"layer", "all"}, {"mode", "cached"}}) + " per layer";
  } else {
    for (const auto& [reads, layers] : groups)
      reads_text += (reads_text.empty() ? "" : " and ") +
                    counted(f, "keys_read", reads, "K/V row", "K/V rows", {{"layer", layers.front()}, {"mode", "cached"}}) +
                    " in layer" + (layers.size() == 1 ? " " : "s ") + f.note("layer", layers.front(), position_list(layers));
  }
  r.lines.push_back("Attention still reads every row: the newest query reads " + reads_text +
                    " in both modes; the cache saves projections, not reads.");
  r.numbers["ledger"] = {{"rows_uncached", u.total_rows_computed}, {"rows_cached", c.total_rows_computed},
                         {"macs_uncached", u.total_macs}, {"macs_cached", c.total_macs}};
}

// ---- query: why Q is not cached -------------------------------------------------------------------------

void report_query(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const StepTrace& t = history[step];
  r.query = check_query_rows(history, step, in.model.model->config());
  if (r.query.empty()) {
    r.lines.push_back("The query check needs both modes with rows recorded.");
    return;
  }
  const int newest = t.newest_position();
  float full = 0, perturbed = 0, moved = 0, output = 0, weights = 0;
  json layers = json::array();
  for (const QueryRowCheck& c : r.query) {
    full = std::max(full, c.full_vs_single);
    perturbed = std::max(perturbed, c.older_rows_perturbed);
    moved = std::max(moved, c.older_outputs_moved);
    output = std::max(output, c.cached_vs_uncached_output);
    weights = std::max(weights, c.cached_vs_uncached_weights);
    layers.push_back({{"layer", c.layer}, {"query_rows", c.n_query_rows}, {"full_vs_single", c.full_vs_single},
                      {"older_rows_perturbed", c.older_rows_perturbed}, {"older_outputs_moved", c.older_outputs_moved},
                      {"recomputed_vs_model", c.recomputed_vs_model},
                      {"cached_vs_uncached_output", c.cached_vs_uncached_output},
                      {"cached_vs_uncached_weights", c.cached_vs_uncached_weights}});
  }
  r.numbers["query"] = layers;
  FigureLog& f = r.figures;
  const std::string all_layers = r.query.size() == 1   ? "the layer"
                                 : r.query.size() == 2 ? "both layers"
                                                       : "all " + count(f, "layers", std::int64_t(r.query.size())) + " layers";
  r.lines.push_back("Newest output (position " + count(f, "position", newest) + "), all " + count(f, "positions", t.position_end) +
                    " query rows vs row " + count(f, "position", newest) + " alone, " + all_layers + ": max |\xCE\x94| = " +
                    difference(f, "full_vs_single", full) + ".");
  if (newest > 0)
    r.lines.push_back("Query rows " + f.note("position", 0, position_range(0, newest - 1)) +
                      " replaced by random numbers: the newest output moves by " + difference(f, "older_rows_perturbed", perturbed) +
                      "; their own outputs by up to " + measured(f, "older_outputs_moved", moved, "%.2f") + ".");
  else
    r.lines.push_back("One position so far: there is no older query row yet.");
  const std::size_t cached_rows = t.cached.forward.layers.empty() ? 0 : t.cached.forward.layers[0].computed_rows.size();
  std::string line = "Cached path (" + counted(f, "query_rows", std::int64_t(cached_rows), "query row", "query rows", {{"mode", "cached"}}) +
                     ") vs uncached (" + count(f, "positions", t.position_end) + "): output " +
                     difference(f, "cached_vs_uncached_output", output) + ", logits " +
                     difference(f, "max_abs_logit_diff", t.max_abs_logit_diff);
  if (output == 0.0f && t.max_abs_logit_diff == 0.0f)
    line += " \xE2\x80\x94 the same computation at prefill.";
  else
    line += " \xE2\x80\x94 float rounding (the same sums, grouped differently).";
  r.lines.push_back(line);
}

// ---- same word, two positions ---------------------------------------------------------------------------

void report_same_word(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const StepTrace& t = history[step];
  const std::string& word = in.lesson.word;
  r.same_word = check_same_word(*in.model.model, history, step, word);
  const SameWordCheck& c = r.same_word;
  FigureLog& f = r.figures;
  if (!c.found) {
    std::vector<int> at;
    for (int p = 0; p < int(t.context_texts.size()); ++p)
      if (!word.empty() && t.context_texts[p] == word) at.push_back(p);
    r.lines.push_back(at.empty() ? (word.empty() ? "No token appears twice yet." : quoted(word) + " has not appeared yet.")
                                 : quoted(word) + " so far only at position " + positions_text(f, at) +
                                       ": one row per layer in the cache.");
    return;
  }
  r.lines.push_back(quoted(c.word) + " (id " + count(f, "token_id", c.token_id) + ") has two rows per layer, positions " +
                    count(f, "position", c.first) + " and " + count(f, "position", c.second) +
                    ": the cache is indexed by position, not by word.");
  json layers = json::array();
  for (const RowPairCheck& l : c.layers) {
    const json at = {{"layer", l.layer}};
    r.details.push_back("Layer " + count(f, "layer", l.layer) + ": K cosine " + measured(f, "key_cosine", l.key_cosine, "%.3f", at) +
                        ", max |\xCE\x94| " + measured(f, "key_max_diff", l.key_max_diff, "%.3f", at) + " \xC2\xB7 V cosine " +
                        measured(f, "value_cosine", l.value_cosine, "%.3f", at) + ", max |\xCE\x94| " +
                        measured(f, "value_max_diff", l.value_max_diff, "%.3f", at));
    layers.push_back({{"layer", l.layer}, {"key_cosine", l.key_cosine}, {"key_max_diff", l.key_max_diff},
                      {"value_cosine", l.value_cosine}, {"value_max_diff", l.value_max_diff}});
  }
  const std::string p1 = count(f, "position", c.first), p2 = count(f, "position", c.second);
  if (c.rotary) {
    r.lines.push_back(f.note("layer", 0, "Layer 0") + ", rotary positions: before rotation the two keys are the same vector (max |\xCE\x94| " +
                      difference(f, "unrotated_max_diff", c.unrotated_max_diff) + "); the cache holds them rotated (max |\xCE\x94| " +
                      measured(f, "rotated_max_diff", c.rotated_max_diff, "%.3f") + "), key " + p2 + " being key " + p1 + " turned by " +
                      counted(f, "position_offset", c.second - c.first, "position", "positions") + " (residual " +
                      difference(f, "rotation_residual", c.rotation_residual) + "). GPT-2 adds a position vector to the input instead.");
    r.numbers["same_word"] = {{"word", c.word}, {"token_id", c.token_id}, {"positions", {c.first, c.second}},
                              {"layers", layers}, {"unrotated_max_diff", c.unrotated_max_diff},
                              {"rotated_max_diff", c.rotated_max_diff}, {"rotation_residual", c.rotation_residual}};
    if (c.relative_checked) {
      const std::string q = "q@", k = "\xC2\xB7k@";  // q@3·k@3
      // A detail: the window's same-word view draws these scores as bars beside the keys.
      r.details.push_back("Distance, not position: " + f.note("head", 0, "query head 0") + " scores " + q + p1 + k + p1 + " = " +
                        measured(f, "score", c.score_first, "%.4f", {{"query", c.first}, {"key", c.first}}) + " and " + q + p2 + k +
                        p2 + " = " + measured(f, "score", c.score_second, "%.4f", {{"query", c.second}, {"key", c.second}}) +
                        " (the same inputs, both at distance " + count(f, "distance", 0) + ": |\xCE\x94| " +
                        f.note("score_difference", std::abs(c.score_first - c.score_second),
                               format_difference(std::abs(c.score_first - c.score_second))) +
                        "), but " + q + p2 + k + p1 + " = " +
                        measured(f, "score", c.score_across, "%.4f", {{"query", c.second}, {"key", c.first}}) + " at distance " +
                        count(f, "distance", c.second - c.first) + ".");
      r.numbers["same_word"]["scores"] = {{"first", c.score_first}, {"second", c.score_second}, {"across", c.score_across}};
    }
    return;
  }
  r.lines.push_back(f.note("layer", 0, "Layer 0") + ": x" + p1 + " \xE2\x88\x92 x" + p2 + " = wpe[" + p1 + "] \xE2\x88\x92 wpe[" + p2 +
                    "] exactly, the token row wte[" + quoted(c.word) + "] being the same (deviation " +
                    measured(f, "input_vs_position_exact", c.input_vs_position_exact, "%g") + " in double; float32 sums: " +
                    difference(f, "input_vs_position_float", c.input_vs_position_float) + ").");
  r.numbers["same_word"] = {{"word", c.word},
                            {"token_id", c.token_id},
                            {"positions", {c.first, c.second}},
                            {"layers", layers},
                            {"input_vs_position_exact", c.input_vs_position_exact},
                            {"input_vs_position_float", c.input_vs_position_float},
                            {"position_diff_max", c.position_diff_max}};
}

// ---- the context limit ------------------------------------------------------------------------------

void report_context(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  r.has_context = true;
  r.context = check_context(in.model, in.prompt_ids, in.forced_ids, history, step);
  const ContextCheck& c = r.context;
  const Tokenizer& tok = *in.model.tokenizer;
  FigureLog& f = r.figures;
  std::string held = "Window " + f.note("window", c.window, "W=" + std::to_string(c.window)) + ": the cache holds positions " +
                     f.note("position", c.first_held, position_range(c.first_held, c.positions - 1)) + " (" +
                     f.note("rows_held", c.positions - c.first_held, std::to_string(c.positions - c.first_held) + " rows",
                            {{"layer", 0}, {"mode", "cached"}}) + " per layer)";
  if (c.window == 0) held = "No window: the cache holds every position, up to the context of " + count(f, "context_length", c.context_length);
  held += c.evicted.empty() ? "; nothing evicted this step." : "; evicted this step: " + positions_text(f, c.evicted) + ".";
  r.lines.push_back(held);
  r.lines.push_back("Windowed cached = windowed uncached: max |\xCE\x94logit| " +
                    difference(f, "max_abs_logit_diff", c.cached_vs_uncached) + ".");
  if (c.full_fits)
    r.lines.push_back("Full attention over all " + count(f, "positions", c.positions) + " positions vs the window: KL " +
                      measured(f, "kl", c.kl_full_windowed, "%.4f", {{"policy", "window"}}) + " nats, max |\xCE\x94p| " +
                      measured(f, "max_abs_prob_diff", c.max_prob_diff, "%.4f") +
                      "; next token " + quoted(tok.token_text(c.full_top)) + " vs " + quoted(tok.token_text(c.window_top)) + ".");
  if (!c.hard_stop.empty())
    r.lines.push_back("The next step is refused, window or not: \"" + f.note("engine_message", 0, c.hard_stop) + "\"");
  if (c.rotary && c.window > 0 && c.positions > c.context_length)
    r.lines.push_back("Position " + count(f, "position", c.positions - 1) + " is past the trained context of " +
                      count(f, "context_length", c.context_length) + ": rotary positions look nothing up, so the window keeps decoding "
                      "(a GPT-2-style model must stop here).");
  r.numbers["context"] = {{"window", c.window},
                          {"context_length", c.context_length},
                          {"positions", c.positions},
                          {"first_held", c.first_held},
                          {"evicted", c.evicted},
                          {"cached_vs_uncached", c.cached_vs_uncached},
                          {"full_fits", c.full_fits},
                          {"hard_stop", c.hard_stop}};
  if (c.full_fits) {
    r.numbers["context"]["kl_full_windowed"] = c.kl_full_windowed;
    r.numbers["context"]["max_prob_diff"] = c.max_prob_diff;
    r.numbers["context"]["full_top"] = c.full_top;
    r.numbers["context"]["window_top"] = c.window_top;
  }
}

// ---- reusing a prefix ---------------------------------------------------------------------------------

void report_prefix(const LessonInputs& in, int step, LessonReport& r) {
  const PrefixScript& s = *in.prefix;
  const Tokenizer& tok = *in.model.tokenizer;
  const StepTrace& t = s.traces[std::size_t(step)];
  const int qi = s.question_of_step[std::size_t(step)];
  const int p = int(s.prefix_ids.size());
  FigureLog& f = r.figures;
  if (qi < 0) {
    r.lines.push_back("Shared prompt: " + count(f, "positions", p) + " tokens prefilled once (" +
                      f.note("macs", double(s.macs_prefix), format_short_count(double(s.macs_prefix)), {{"scope", "prefix"}}) +
                      " multiply-adds). Its cache state is saved: " + count(f, "rows_held", p, {{"layer", 0}, {"mode", "cached"}}) +
                      " rows per layer, " + f.note("snapshot_bytes", double(s.snapshot_bytes), format_bytes(s.snapshot_bytes)) +
                      " \xE2\x80\x94 a copy of the KvCache.");
    r.numbers["prefix"] = {{"prefix_tokens", p}, {"macs_prefix", s.macs_prefix}, {"snapshot_bytes", s.snapshot_bytes}};
    return;
  }
  const PrefixQuestion& q = s.questions[std::size_t(qi)];
  const int k = step - q.first_step;
  const std::string name = "Question " + count(f, "question", qi + 1);
  if (k == 0) {
    std::string line = name + " " + quoted(q.text) + ": cache restored from the saved state; rows " +
                       f.note("position", 0, position_range(0, p - 1)) + " reused, " +
                       count(f, "rows_computed", std::int64_t(q.question_ids.size()), {{"layer", 0}, {"mode", "cached"}}) + " new per layer";
    if (qi > 0) line += "; question " + count(f, "question", qi) + "'s rows were dropped";
    r.lines.push_back(line + ".");
  }
  const bool same = q.answer_ids[std::size_t(k)] == q.fresh_answer_ids[std::size_t(k)];
  r.lines.push_back("Against a fresh run of prompt + question: next token " + quoted(t.next_text) + (same ? " in both \xE2\x9C\x93" : " vs " + quoted(tok.token_text(q.fresh_answer_ids[std::size_t(k)])) + " \xE2\x9C\x95") +
                    ", max |\xCE\x94logit| " + difference(f, "logit_diff_vs_fresh", q.logit_diffs[std::size_t(k)]) + ".");
  json numbers = {{"question", qi + 1}, {"same_token_as_fresh", same}, {"logit_diff_vs_fresh", q.logit_diffs[std::size_t(k)]}};
  if (step == q.last_step) {
    const std::int64_t saved = q.macs_fresh - q.macs_reused;
    r.lines.push_back(name + " answer " + quoted(text_of(tok, q.answer_ids)) + ": " +
                      f.note("macs", double(q.macs_reused), format_short_count(double(q.macs_reused)), {{"scope", "question_reused"}}) +
                      " multiply-adds with the prefix reused vs " +
                      f.note("macs", double(q.macs_fresh), format_short_count(double(q.macs_fresh)), {{"scope", "question_fresh"}}) +
                      " fresh \xE2\x80\x94 " + f.note("macs_saved", double(saved), format_short_count(double(saved))) + " saved (" +
                      measured(f, "percent", 100.0 * double(saved) / double(q.macs_fresh), "%.0f") + "%).");
    numbers["macs_reused"] = q.macs_reused;
    numbers["macs_fresh"] = q.macs_fresh;
    numbers["answer_ids"] = q.answer_ids;
    numbers["fresh_answer_ids"] = q.fresh_answer_ids;
    if (qi + 1 == int(s.questions.size()) && s.questions.size() > 1) {
      std::int64_t with = s.macs_prefix, without = 0;
      for (const PrefixQuestion& x : s.questions) {
        with += x.macs_reused;
        without += x.macs_fresh;
      }
      r.lines.push_back((s.questions.size() == 2 ? std::string("Both questions: ")
                                                 : "All " + count(f, "questions", std::int64_t(s.questions.size())) + " questions: ") +
                        f.note("macs", double(with), format_short_count(double(with)), {{"scope", "all_reused"}}) +
                        " multiply-adds (prompt once) vs " +
                        f.note("macs", double(without), format_short_count(double(without)), {{"scope", "all_fresh"}}) +
                        " (prompt every time): " + f.note("macs_saved", double(without - with), format_short_count(double(without - with))) +
                        " saved.");
      numbers["total_with_reuse"] = with;
      numbers["total_without_reuse"] = without;
    }
  }
  r.numbers["prefix"] = numbers;
}

// ---- how big does the cache get? --------------------------------------------------------------------

// MLA: the engine's latent cache against the calculator's closed form, against MHA's bytes, the
// multiply-adds the rebuild adds, and K/V rebuilt from cached latents against those recomputed uncached.
void report_latent_cache(const LessonInputs& in, const StepTrace& t, const CacheShape& loaded, LessonReport& r) {
  const ModelConfig& config = in.model.model->config();
  const AttentionVariant own = own_attention_variant(loaded);  // the MLA row
  const int positions = int(t.cached.forward.layers.front().held_rows.size());
  r.engine = {true, positions, kv_cache_bytes(loaded, own, positions, KvDtype::FP32), t.cached.cache_bytes};
  FigureLog& f = r.figures;
  const json loaded_model = {{"model", "loaded"}};
  r.lines.push_back("Engine (" + in.model.name + "): " + cache_formula(loaded, own, positions, KvDtype::FP32, &f, loaded_model) +
                    "; the engine reports " + f.note("cache_bytes", double(r.engine.engine), format_count(r.engine.engine) + " B", loaded_model) + " " +
                    (r.engine.calculator == r.engine.engine ? "\xE2\x9C\x93" : "\xE2\x9C\x95"));
  const std::int64_t as_mha = cache_bytes_as_mha(config, t);
  std::int64_t rebuild = 0, rebuilt_rows = 0;
  for (const LayerRecord& l : t.cached.forward.layers) {
    rebuild += l.macs.rebuild;
    rebuilt_rows += std::int64_t(l.rebuilt_rows.size());
  }
  const std::int64_t step_macs = t.cached.macs();
  r.lines.push_back("As MHA (K and V of " + counted(f, "heads", config.n_head, "head", "heads") + " \xC3\x97 " +
                    count(f, "head_dim", config.d_head()) + " dims cached) the same positions would take " +
                    f.note("cache_bytes", double(as_mha), format_count(as_mha) + " B", {{"model", "MHA"}}) + ": the latent cache is " +
                    measured(f, "percent", 100.0 * double(t.cached.cache_bytes) / double(std::max<std::int64_t>(1, as_mha)), "%.1f") +
                    "% of it. Rebuilding K and V from " + f.note("rebuilt_rows", double(rebuilt_rows), format_count(rebuilt_rows)) +
                    " latent rows (all layers) cost " + f.note("rebuild_macs", double(rebuild), format_count(rebuild)) +
                    " multiply-adds this step (" +
                    measured(f, "percent", 100.0 * double(rebuild) / double(std::max<std::int64_t>(1, step_macs)), "%.1f") + "% of its " +
                    f.note("macs", double(step_macs), format_count(step_macs), {{"mode", "cached"}, {"scope", "step"}}) + ").");
  json numbers = {{"cache_bytes", t.cached.cache_bytes}, {"mha_bytes", as_mha}, {"rebuild_macs", rebuild},
                  {"rebuilt_rows", rebuilt_rows}, {"step_macs", step_macs}};
  // The rows rebuilt from cached latents against the same positions rebuilt by the uncached pass.
  float worst = -1.0f;
  for (std::size_t l = 0; t.both_ran() && l < t.cached.forward.layers.size(); ++l) {
    const LayerRecord &c = t.cached.forward.layers[l], &u = t.uncached.forward.layers[l];
    for (std::size_t i = 0; i < c.rebuilt_rows.size() && c.rebuilt_keys.rows() == Eigen::Index(c.rebuilt_rows.size()); ++i) {
      const auto it = std::find(u.rebuilt_rows.begin(), u.rebuilt_rows.end(), c.rebuilt_rows[i]);
      const Eigen::Index j = Eigen::Index(it - u.rebuilt_rows.begin());
      if (it == u.rebuilt_rows.end() || j >= u.rebuilt_keys.rows()) continue;
      worst = std::max({worst, (c.rebuilt_keys.row(Eigen::Index(i)) - u.rebuilt_keys.row(j)).cwiseAbs().maxCoeff(),
                        (c.rebuilt_values.row(Eigen::Index(i)) - u.rebuilt_values.row(j)).cwiseAbs().maxCoeff()});
    }
  }
  if (worst >= 0.0f) {
    r.lines.push_back("K and V rebuilt from the cached latent rows vs recomputed without a cache: max |\xCE\x94| = " +
                      measured(f, "rebuilt_vs_uncached", worst, "%.1e") + (worst < 1e-4f ? " \xE2\x9C\x93 (float rounding)" : " \xE2\x9C\x95"));
    numbers["rebuilt_vs_uncached"] = worst;
  }
  r.numbers["engine"] = {{"positions", positions}, {"calculator_bytes", r.engine.calculator}, {"engine_bytes", r.engine.engine}};
  r.numbers["mla"] = numbers;
}

void report_cache_size(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const StepTrace& t = history[step];
  const ModelConfig& config = in.model.model->config();
  const CacheShape loaded = loaded_cache_shape(config, in.model.name);
  FigureLog& f = r.figures;
  const json loaded_model = {{"model", "loaded"}};
  // Positions the cache holds per layer at most: a global layer's, when local layers hold fewer.
  int held = 0;
  if (t.cached.ran)
    for (const LayerRecord& l : t.cached.forward.layers) held = std::max(held, int(l.held_rows.size()));
  if (t.cached.ran && config.mla()) {
    report_latent_cache(in, t, loaded, r);
  } else if (t.cached.ran && loaded.n_local_layer() > 0 && t.window == 0) {  // local layers: each holds min(t, its window)
    const AttentionVariant own{"own", loaded.n_kv_head, false, true};
    r.engine = {true, t.position_end, kv_cache_bytes(loaded, own, t.position_end, KvDtype::FP32), t.cached.cache_bytes};
    r.lines.push_back("Engine (" + in.model.name + "): " + cache_formula(loaded, own, t.position_end, KvDtype::FP32, &f, loaded_model) +
                      "; the engine reports " + f.note("cache_bytes", double(r.engine.engine), format_count(r.engine.engine) + " B", loaded_model) + " " +
                      (r.engine.calculator == r.engine.engine ? "\xE2\x9C\x93" : "\xE2\x9C\x95"));
    r.numbers["engine"] = {{"positions", t.position_end}, {"calculator_bytes", r.engine.calculator}, {"engine_bytes", r.engine.engine}};
  } else if (t.cached.ran) {
    r.engine = {true, held, kv_cache_bytes(loaded, loaded.n_kv_head, held, KvDtype::FP32), t.cached.cache_bytes};
    const bool equal = r.engine.calculator == r.engine.engine;
    r.lines.push_back("Engine (" + in.model.name + "): " + cache_product(loaded, loaded.n_kv_head, held, KvDtype::FP32, &f, loaded_model) +
                      " = " + f.note("cache_bytes", double(r.engine.calculator), format_count(r.engine.calculator) + " B", loaded_model) +
                      "; the engine reports " + f.note("cache_bytes", double(r.engine.engine), format_count(r.engine.engine) + " B", loaded_model) +
                      " " + (equal ? "\xE2\x9C\x93" : "\xE2\x9C\x95"));
    r.numbers["engine"] = {{"positions", held}, {"calculator_bytes", r.engine.calculator}, {"engine_bytes", r.engine.engine}};
    if (config.kv_heads() < config.n_head) {  // who reads which cached rows, from the trace
      std::string groups;
      for (int g = 0; g < config.kv_heads(); ++g) {
        std::string heads;
        for (int h : t.query_heads_of(g)) heads += (heads.empty() ? "" : ", ") + count(f, "head", h);
        groups += (g ? "; " : "") + std::string("KV head ") + count(f, "kv_head", g) + " \xE2\x86\x90 query heads " + heads;
      }
      r.lines.push_back("Shared rows: " + groups + ". As MHA (one K/V head per query head) the same cache would be " +
                        f.note("cache_bytes", double(cache_bytes_as_mha(config, t)), format_count(cache_bytes_as_mha(config, t)) + " B",
                               {{"model", "MHA"}}) + ".");
    }
  }
  const CalculatorSetting setting = step < int(in.lesson.steps.size()) ? in.lesson.steps[std::size_t(step)].calculator
                                                                        : CalculatorSetting{};
  if (!setting.set) return;
  KvDtype dtype = KvDtype::FP32;
  parse_kv_dtype(setting.dtype, &dtype);
  const CacheShape shape = find_cache_shape(setting.shape, config, in.model.name);
  r.calculator = calculate(shape, setting.tokens > 0 ? setting.tokens : held, dtype);
  const CalculatorReport& c = r.calculator;
  std::string line = f.note("model_label", 0, shape.label) + ", " +
                     f.note("positions", double(c.tokens), format_count(c.tokens) + (c.tokens == 1 ? " token" : " tokens"),
                            {{"model", shape.label}}) + ", " + kv_dtype_info(dtype).name + ":";
  json variants = json::array();
  for (std::size_t i = 0; i < c.variants.size(); ++i) {
    const json row = {{"model", c.variants[i].name}, {"positions", c.tokens}};
    line += std::string(i ? " \xC2\xB7 " : " ") + c.variants[i].name + " " + count(f, "kv_heads", c.variants[i].n_kv_head, row) +
            (c.variants[i].hypothetical ? "" : " (the model's)") + ": " +
            f.note("cache_bytes", double(c.bytes[i]), format_decimal_bytes(double(c.bytes[i])), row);
    variants.push_back({{"name", c.variants[i].name}, {"kv_heads", c.variants[i].n_kv_head}, {"bytes", c.bytes[i]}});
  }
  r.details.push_back(line);
  if (shape.name != "loaded")
    r.details.push_back((shape.kv_lora_rank > 0 ? cache_formula(shape, own_attention_variant(shape), c.tokens, dtype, &f, {{"model", shape.label}})
                                                : cache_formula(shape, shape.n_kv_head, c.tokens, dtype, &f, {{"model", shape.label}})) +
                        "; the weights are " +
                        f.note("weight_bytes", double(shape.parameters) * kv_dtype_info(dtype).bytes,
                               format_decimal_bytes(double(shape.parameters) * kv_dtype_info(dtype).bytes)) + " in " +
                    kv_dtype_info(dtype).name + ".");
  r.numbers["calculator"] = {{"shape", shape.name}, {"dtype", kv_dtype_info(dtype).name}, {"tokens", c.tokens},
                             {"variants", variants}};
}

// ---- cache policies: divergence and bytes against full attention ----------------------------------------

// One policy's line at a step: divergence now and on average so far, rows and bytes held, row errors.
std::string policy_line(const std::vector<StepTrace>& history, int step, json& numbers, FigureLog& f) {
  const PolicyTrace& p = history[std::size_t(step)].cached.policy;
  double mean_kl = 0.0;
  for (int s = 0; s <= step; ++s) mean_kl += history[std::size_t(s)].cached.policy.kl_from_full / double(step + 1);
  const double share = p.full_cache_bytes > 0 ? 100.0 * double(p.cache_bytes) / double(p.full_cache_bytes) : 0.0;
  const std::size_t rows = p.kept_at(0, 0).size();
  const json policy = {{"policy", p.spec}};
  std::string line = f.note("policy_spec", 0, p.spec) + ": KL(full \xE2\x80\x96 policy) " + measured(f, "kl", p.kl_from_full, "%.2e", policy) +
                     " nats (mean " + measured(f, "mean_kl", mean_kl, "%.2e", policy) + " over " +
                     counted(f, "steps", step + 1, "step", "steps") + "), max |\xCE\x94p| " +
                     measured(f, "max_abs_prob_diff", p.max_abs_prob_diff, "%.3f", policy) + ", top token " +
                     (p.top1_agrees ? "agrees \xE2\x9C\x93" : "differs \xE2\x9C\x95") + "; " +
                     count(f, "rows_held", std::int64_t(rows), {{"policy", p.spec}, {"layer", 0}, {"kv_head", 0}}) +
                     " rows per layer and KV head, " + f.note("cache_bytes", double(p.cache_bytes), format_count(p.cache_bytes) + " B", policy) +
                     " = " + measured(f, "percent", share, "%.1f") + "% of the full cache's " +
                     f.note("full_cache_bytes", double(p.full_cache_bytes), format_count(p.full_cache_bytes) + " B", policy);
  if (p.max_abs_k_error > 0.0f || p.max_abs_v_error > 0.0f)
    line += "; rows read off by up to |\xCE\x94K| " + measured(f, "max_abs_k_error", p.max_abs_k_error, "%.1e", policy) + ", |\xCE\x94V| " +
            measured(f, "max_abs_v_error", p.max_abs_v_error, "%.1e", policy);
  numbers.push_back({{"spec", p.spec}, {"kl_from_full", p.kl_from_full}, {"mean_kl_from_full", mean_kl},
                     {"max_abs_prob_diff", p.max_abs_prob_diff}, {"top1_agrees", p.top1_agrees}, {"rows", rows},
                     {"cache_bytes", p.cache_bytes}, {"full_cache_bytes", p.full_cache_bytes}, {"bytes_percent", share},
                     {"max_abs_k_error", p.max_abs_k_error}, {"max_abs_v_error", p.max_abs_v_error}});
  return line + ".";
}

void report_policy(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  if (!history[std::size_t(step)].cached.policy.active) return;
  json numbers = json::array();
  r.lines.push_back(policy_line(history, step, numbers, r.figures));
  for (const std::vector<StepTrace>* other : in.compared)
    if (other && step < int(other->size())) r.lines.push_back(policy_line(*other, step, numbers, r.figures));
  r.numbers["policies"] = numbers;
  const PolicyTrace& p = history[std::size_t(step)].cached.policy;
  if (!p.per_head) return;
  // The rule chose by head: say what each KV head of layer 0 kept, and why.
  std::string heads;
  for (std::size_t g = 0; g < p.kept[0].size(); ++g) {
    std::string groups;
    for (const auto& [why, positions] : p.kept_by_reason(0, int(g)))
      groups += (groups.empty() ? "" : ", ") + why + " " + positions_text(r.figures, positions);
    heads += (g ? "; " : "") + std::string("KV head ") + count(r.figures, "kv_head", std::int64_t(g)) + ": " + groups;
  }
  r.lines.push_back("Kept in " + r.figures.note("layer", 0, "layer 0") + ", by KV head (" + heads + "): the rule chose them from the attention each head "
                    "gave, so the heads keep different rows.");
}

}  // namespace

// ---- speculative decoding: guess ahead, take back -------------------------------------------------------

namespace {

// A token as written, declared (its text may hold digits).
std::string token(FigureLog& f, const Tokenizer& tokenizer, int id) {
  return f.note("token", id, quoted(tokenizer.token_text(id)));
}

std::string quoted_texts(FigureLog& f, const Tokenizer& tokenizer, const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ", ") + token(f, tokenizer, id);
  return s;
}

void report_speculative(const LessonInputs& in, int step, LessonReport& r) {
  const SpeculativeScript& script = *in.speculative;
  const Tokenizer& tok = *in.model.tokenizer;
  FigureLog& f = r.figures;
  const json draft = {{"model", "draft"}}, target = {{"model", "target"}};
  if (step == 0) {
    r.lines.push_back("Prefill: the target and the draft (" + f.note("model_name", 0, script.draft_name) +
                      ") each read the " + count(f, "positions", script.prompt_length) + "-token" +
                      " prompt into their own cache; the target's first token " +
                      token(f, tok, script.tokens[std::size_t(script.prompt_length)]) + " is pending.");
  } else {
    const SpeculativeRound& round = script.rounds[std::size_t(step - 1)];
    const int k = int(round.drafted.size()), kept = round.accepted;
    const int first = round.first_position, last = first + k;
    std::string line = "Round " + count(f, "round", step - 1) + ": the draft guessed " + quoted_texts(f, tok, round.drafted) +
                       " in " + counted(f, "draft_passes", round.draft_passes, "one-token pass", "one-token passes", draft) +
                       "; the target checked them in one pass over positions " +
                       f.note("position", first, position_range(first, last)) + " and kept " +
                       count(f, "accepted", kept) + " of " + count(f, "drafted", k) + ".";
    if (round.corrected)
      line += " " + token(f, tok, round.drafted[std::size_t(kept)]) + " was not its choice: it takes " +
              token(f, tok, round.next_id) + " instead, and " +
              counted(f, "rows_rolled_back", round.target_rows_rolled_back, "row", "rows", target) +
              " (positions " + f.note("position", first + kept + 1, position_range(first + kept + 1, last)) +
              ") are rolled back from each cache.";
    else
      line += " Its own next token " + token(f, tok, round.next_id) + " comes free: nothing to roll back.";
    r.lines.push_back(line);
    // The rows behind it, per guess: how sure each model was.
    std::string guesses;
    for (int i = 0; i < k; ++i)
      guesses += (i ? "; " : "") + token(f, tok, round.drafted[std::size_t(i)]) + " draft " +
                 f.note("draft_probability", round.draft_probability[std::size_t(i)],
                        fmt("%.2f", round.draft_probability[std::size_t(i)]), draft) +
                 ", target " + f.note("target_probability", round.target_probability[std::size_t(i)],
                                      fmt("%.2f", round.target_probability[std::size_t(i)]), target) +
                 (i < kept ? " kept" : i == kept ? " rejected" : " not checked");
    if (k > 0) r.details.push_back("Each guess's probability under each model: " + guesses + ".");
  }
  const SpeculativeScript::Totals& t = script.totals[std::size_t(step)];
  const double rate = t.drafted > 0 ? double(t.accepted) / t.drafted : 0.0;
  r.lines.push_back("So far " + counted(f, "new_tokens", t.new_tokens, "new token", "new tokens") + " from " +
                    counted(f, "target_passes", t.target_passes, "target pass", "target passes") +
                    ", where plain cached decoding needs " + counted(f, "plain_passes", t.plain_passes, "pass", "passes") +
                    (t.drafted > 0 ? "; " + count(f, "accepted", t.accepted, {{"scope", "total"}}) + " of " +
                                         count(f, "drafted", t.drafted, {{"scope", "total"}}) + " guesses kept (" +
                                         f.note("acceptance_rate", rate, fmt("%.0f%%", 100.0 * rate)) + ")"
                                   : std::string()) +
                    "; the draft made " + counted(f, "draft_passes", t.draft_passes, "pass", "passes", {{"scope", "total"}}) + ".");
  r.numbers["speculative"] = {{"target_passes", t.target_passes}, {"plain_passes", t.plain_passes},
                              {"draft_passes", t.draft_passes},   {"drafted", t.drafted},
                              {"accepted", t.accepted},           {"new_tokens", t.new_tokens}};
}

// ---- why cached != uncached: the same sums in another order -------------------------------------------

std::string drift_line(const std::string& numerics, const std::vector<StepTrace>& history, int step, FigureLog& f) {
  const StepTrace& t = history[std::size_t(step)];
  float worst = 0.0f;
  int parted = -1;
  for (int s = 0; s <= step; ++s) {
    worst = std::max(worst, history[std::size_t(s)].max_abs_logit_diff);
    if (parted < 0 && !history[std::size_t(s)].top1_agrees) parted = s;
  }
  const json context = {{"numerics", numerics}};
  return f.note("numerics", 0, numerics, context) + ": cached vs uncached max |\xCE\x94logit| " +
         difference(f, "max_abs_logit_diff", t.max_abs_logit_diff, context) + " now, " +
         difference(f, "max_abs_logit_diff_so_far", worst, context) + " at worst so far; top token " +
         (t.top1_agrees ? "the same" : "different") +
         (parted >= 0 ? ", greedy decoding parts at step " + count(f, "step", parted, context) : "") + ".";
}

void report_precision(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  json numbers = json::array();
  auto add = [&](const std::string& spec, const std::vector<StepTrace>& h) {
    if (step >= int(h.size()) || !h[std::size_t(step)].both_ran()) return;
    Numerics n;
    parse_numerics(spec, &n);
    r.lines.push_back(drift_line(describe(n), h, step, r.figures));
    numbers.push_back({{"numerics", describe(n)}, {"max_abs_logit_diff", h[std::size_t(step)].max_abs_logit_diff},
                       {"top1_agrees", h[std::size_t(step)].top1_agrees}});
  };
  add(in.lesson.numerics, history);
  for (std::size_t i = 0; i < in.compared.size() && i < in.lesson.compare.size(); ++i)
    if (in.compared[i]) add(in.lesson.compare[i], *in.compared[i]);
  r.numbers["precision"] = numbers;
  r.lines.push_back(r.figures.note("lesson_text", 0, "Why: a cached step multiplies one row, the uncached pass all rows at once, and the two kernels add "
                    "the same products in another order; rounding to 16 bits turns float32's last-bit differences into "
                    "whole bf16 steps. Same order, same sums: no difference."));
}

}  // namespace

// ---- many sequences, one paged cache -------------------------------------------------------------------

namespace {

const SequenceRound* sequence_round(const BatchRound& round, int sequence) {
  for (const SequenceRound& s : round.sequences)
    if (s.sequence == sequence) return &s;
  return nullptr;
}

std::string event_line(const BlockEvent& e, const BatchRound& round, const Tokenizer& tokenizer, FigureLog& f) {
  const std::string seq = "Sequence " + count(f, "sequence", e.sequence);
  switch (e.kind) {
    case BlockEventKind::Join:
      if (e.position == 0) return seq + " joined with a " + count(f, "count", e.count) + "-token prompt; no full block of it is cached yet.";
      return seq + " joined with a " + count(f, "count", e.count) + "-token prompt: its first " + count(f, "position", e.position) +
             " positions are already in full blocks another sequence holds (shared, not computed).";
    case BlockEventKind::Fork: {
      std::string line = seq + " branched from sequence " + count(f, "other", e.other) + ", sharing every block it holds (" +
                         count(f, "count", e.count) + "); no row is copied or computed.";
      const SequenceRound* branch = sequence_round(round, e.sequence);
      const SequenceRound* parent = sequence_round(round, e.other);
      if (branch && parent && branch->ran && parent->ran && !branch->input_ids.empty() && !parent->input_ids.empty())
        line += " It feeds its own draw " + quoted(tokenizer.token_text(branch->input_ids.back())) + " where sequence " +
                count(f, "other", e.other) + " feeds " + quoted(tokenizer.token_text(parent->input_ids.back())) + ".";
      return line;
    }
    case BlockEventKind::CopyOnWrite:
      return "Copy on write: sequence " + count(f, "sequence", e.sequence) + " was about to write into shared block " + count(f, "other", e.other) + ", so block " +
             count(f, "block", e.block) + " became its own copy (" + count(f, "count", e.count) + (e.count == 1 ? " row" : " rows") + " copied).";
    case BlockEventKind::Truncate:
      return seq + " rolled back to its first " + count(f, "position", e.position) + " tokens: " + count(f, "count", e.count) +
             " cached rows dropped; the last kept token is fed again for the next choice.";
    case BlockEventKind::Edit: {
      const SequenceRound* s = sequence_round(round, e.sequence);
      const int recomputed = s ? s->rows_recomputed : 0;
      return seq + "'s token at position " + count(f, "position", e.position) + " was replaced: " + count(f, "count", e.count) +
             " rows from there on were invalid; " + count(f, "rows_recomputed", recomputed) + " recomputed this round.";
    }
    case BlockEventKind::Finish: return seq + " is done (" + count(f, "count", e.count) + " tokens) and lets go of its blocks.";
    default: return "";  // block by block: counted in the ledger line
  }
}

void report_batch(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const BatchRound& round = in.batch->round(step);
  FigureLog& f = r.figures;
  const PoolLedger& l = round.ledger;
  const int block_size = in.batch->session->options().block_size;
  int holding = 0, frees = 0;
  for (const SequenceRound& s : round.sequences) holding += s.block_table.empty() ? 0 : 1;
  for (const BlockEvent& e : round.events) frees += e.kind == BlockEventKind::Free ? 1 : 0;
  // The ledger as details: the window's block-pool view draws them under the pool.
  r.details.push_back("Round " + count(f, "round", round.round) + ": " + count(f, "blocks_in_use", l.blocks_in_use) + " of " +
                    count(f, "blocks_total", l.blocks_total) + " blocks in use (" + count(f, "blocks_shared", l.blocks_shared) + " shared), " +
                    count(f, "blocks_free", l.blocks_free) + " free" + (frees ? " (" + count(f, "blocks_freed", frees) + " freed this round)" : "") +
                    ". " + count(f, "rows_used", l.rows_used) + " rows cached in " + count(f, "rows_allocated", l.rows_allocated) +
                    " allocated: " + count(f, "rows_wasted", l.rows_wasted) + " unused, only in last blocks" +
                    (holding ? " (" + measured(f, "rows_wasted_per_sequence", double(l.rows_wasted) / holding, "%.1f") + " per sequence, under one block of " +
                                   count(f, "block_size", block_size) + ")" : "") + ".");
  if (l.rows_logical > l.rows_used || l.rows_contiguous > 0)
    r.details.push_back("Without sharing the sequences would hold " + count(f, "rows_logical", l.rows_logical) +
                      " rows; contiguous buffers reserved at the context length, " + count(f, "rows_contiguous", l.rows_contiguous) + ".");
  for (const BlockEvent& e : round.events)
    if (std::string line = event_line(e, round, *in.model.tokenizer, r.figures); !line.empty()) r.lines.push_back(line);
  std::string chosen;
  for (const SequenceRound& s : round.sequences)
    if (s.ran && s.next_id >= 0)
      chosen += (chosen.empty() ? "" : ", ") + count(f, "sequence", s.sequence) + " \xE2\x86\x92 " + quoted(in.model.tokenizer->token_text(s.next_id));
  if (!chosen.empty()) r.lines.push_back("Next tokens: " + chosen + ".");
  const SequenceRound& first = round.sequences.front();
  const StepTrace& t = history[std::size_t(step)];
  if (first.ran && first.logits.size() == t.cached.logits.size() && t.cached.logits.size() > 0) {
    const float diff = (first.logits - t.cached.logits).cwiseAbs().maxCoeff();
    const bool same = first.next_id == t.next_id;
    r.lines.push_back("Panes: " + f.note("sequence", 0, "sequence 0") + "'s own run (alone, contiguous cache) chose " + quoted(t.next_text) +
                      (same ? "; so did its batch run \xE2\x9C\x93" : "; its batch run chose another token \xE2\x9C\x95") +
                      ", max |\xCE\x94logit| " + difference(f, "max_abs_logit_diff", diff) + ".");
    r.numbers["batch_panes"] = {{"same_token", same}, {"max_logit_diff", diff}};
  } else {
    r.lines.push_back("Panes: " + f.note("sequence", 0, "sequence 0") + "'s own run; in the batch, sequence 0 is " +
                      std::string(sequence_state_name(first.state)) + " this round.");
  }
  r.numbers["batch"] = {{"round", round.round},         {"blocks_in_use", l.blocks_in_use}, {"blocks_shared", l.blocks_shared},
                        {"blocks_free", l.blocks_free}, {"rows_used", l.rows_used},         {"rows_allocated", l.rows_allocated},
                        {"rows_wasted", l.rows_wasted}, {"blocks_copied", round.blocks_copied}};
}

}  // namespace

CalculatorReport calculate(const CacheShape& shape, std::int64_t tokens, KvDtype dtype) {
  CalculatorReport c;
  c.set = true;
  c.shape = shape;
  c.dtype = dtype;
  c.tokens = tokens;
  c.variants = attention_variants(shape);
  for (const AttentionVariant& v : c.variants) c.bytes.push_back(kv_cache_bytes(shape, v, tokens, dtype));
  return c;
}

LessonReport make_report(const LessonInputs& in, const std::vector<StepTrace>& history, int step) {
  LessonReport r;
  switch (in.lesson.kind) {
    case LessonKind::Decode: report_ledger(history, step, r); break;
    case LessonKind::Query: report_query(in, history, step, r); break;
    case LessonKind::SameWord: report_same_word(in, history, step, r); break;
    case LessonKind::ContextLimit: report_context(in, history, step, r); break;
    case LessonKind::PrefixReuse:
      if (in.prefix) report_prefix(in, step, r);
      break;
    case LessonKind::CacheSize: report_cache_size(in, history, step, r); break;
    case LessonKind::CachePolicy: report_policy(in, history, step, r); break;
    case LessonKind::Batch:
      if (in.batch) report_batch(in, history, step, r);
      break;
    case LessonKind::Speculative:
      if (in.speculative) report_speculative(in, step, r);
      break;
    case LessonKind::Precision: report_precision(in, history, step, r); break;
    case LessonKind::MemoryWall:
      if (in.wall) report_memory_wall(*in.wall, step, r);
      break;
  }
  return r;
}

}  // namespace kvscope
