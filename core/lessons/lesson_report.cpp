#include "core/lessons/lesson_report.h"

#include <algorithm>
#include <cstdio>

#include "core/lessons/caption.h"

namespace kvscope {

namespace {

using nlohmann::json;

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
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
  r.lines.push_back("Ledger after " + std::to_string(step + 1) + (step ? " steps" : " step") + ": K/V rows projected " +
                    format_count(u.total_rows_computed) + " without a cache vs " + format_count(c.total_rows_computed) +
                    " with one; multiply-adds " + format_short_count(double(u.total_macs)) + " vs " +
                    format_short_count(double(c.total_macs)) + " (" + fmt("%.2f", ratio) + "\xC3\x97).");
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
    reads_text = std::to_string(groups[0].first) + (groups[0].first == 1 ? " K/V row" : " K/V rows") + " per layer";
  } else {
    for (const auto& [reads, layers] : groups)
      reads_text += (reads_text.empty() ? "" : " and ") + std::to_string(reads) + (reads == 1 ? " K/V row" : " K/V rows") +
                    " in layer" + (layers.size() == 1 ? " " : "s ") + position_list(layers);
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
  const std::string all_layers = r.query.size() == 1   ? "the layer"
                                 : r.query.size() == 2 ? "both layers"
                                                       : "all " + std::to_string(r.query.size()) + " layers";
  r.lines.push_back("Newest output (position " + std::to_string(newest) + "), all " + std::to_string(t.position_end) +
                    " query rows vs row " + std::to_string(newest) + " alone, " + all_layers + ": max |\xCE\x94| = " +
                    format_difference(full) + ".");
  if (newest > 0)
    r.lines.push_back("Query rows 0\xE2\x80\x93" + std::to_string(newest - 1) +
                      " replaced by random numbers: the newest output moves by " + format_difference(perturbed) +
                      "; their own outputs by up to " + fmt("%.2f", moved) + ".");
  else
    r.lines.push_back("One position so far: there is no older query row yet.");
  const std::size_t cached_rows = t.cached.forward.layers.empty() ? 0 : t.cached.forward.layers[0].computed_rows.size();
  std::string line = "Cached path (" + std::to_string(cached_rows) + (cached_rows == 1 ? " query row" : " query rows") +
                     ") vs uncached (" + std::to_string(t.position_end) + "): output " + format_difference(output) +
                     ", logits " + format_difference(t.max_abs_logit_diff);
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
  if (!c.found) {
    std::vector<int> at;
    for (int p = 0; p < int(t.context_texts.size()); ++p)
      if (!word.empty() && t.context_texts[p] == word) at.push_back(p);
    r.lines.push_back(at.empty() ? (word.empty() ? "No token appears twice yet." : quoted(word) + " has not appeared yet.")
                                 : quoted(word) + " so far only at position " + position_list(at) +
                                       ": one row per layer in the cache.");
    return;
  }
  r.lines.push_back(quoted(c.word) + " (id " + std::to_string(c.token_id) + ") has two rows per layer, positions " +
                    std::to_string(c.first) + " and " + std::to_string(c.second) +
                    ": the cache is indexed by position, not by word.");
  json layers = json::array();
  for (const RowPairCheck& l : c.layers) {
    r.details.push_back("Layer " + std::to_string(l.layer) + ": K cosine " + fmt("%.3f", l.key_cosine) + ", max |\xCE\x94| " +
                      fmt("%.3f", l.key_max_diff) + " \xC2\xB7 V cosine " + fmt("%.3f", l.value_cosine) + ", max |\xCE\x94| " +
                      fmt("%.3f", l.value_max_diff));
    layers.push_back({{"layer", l.layer}, {"key_cosine", l.key_cosine}, {"key_max_diff", l.key_max_diff},
                      {"value_cosine", l.value_cosine}, {"value_max_diff", l.value_max_diff}});
  }
  const std::string p1 = std::to_string(c.first), p2 = std::to_string(c.second);
  if (c.rotary) {
    r.lines.push_back("Layer 0, rotary positions: before rotation the two keys are the same vector (max |\xCE\x94| " +
                      format_difference(c.unrotated_max_diff) + "); the cache holds them rotated (max |\xCE\x94| " +
                      fmt("%.3f", c.rotated_max_diff) + "), key " + p2 + " being key " + p1 + " turned by " +
                      std::to_string(c.second - c.first) + " positions (residual " + format_difference(c.rotation_residual) +
                      "). GPT-2 adds a position vector to the input instead.");
    r.numbers["same_word"] = {{"word", c.word}, {"token_id", c.token_id}, {"positions", {c.first, c.second}},
                              {"layers", layers}, {"unrotated_max_diff", c.unrotated_max_diff},
                              {"rotated_max_diff", c.rotated_max_diff}, {"rotation_residual", c.rotation_residual}};
    return;
  }
  r.lines.push_back("Layer 0: x" + p1 + " \xE2\x88\x92 x" + p2 + " = wpe[" + p1 + "] \xE2\x88\x92 wpe[" + p2 +
                    "] exactly, the token row wte[" + quoted(c.word) + "] being the same (deviation " +
                    fmt("%g", c.input_vs_position_exact) + " in double; float32 sums: " +
                    format_difference(c.input_vs_position_float) + ").");
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
  std::string held = "Window W=" + std::to_string(c.window) + ": the cache holds positions " +
                     position_range(c.first_held, c.positions - 1) + " (" + std::to_string(c.positions - c.first_held) +
                     " rows per layer)";
  if (c.window == 0) held = "No window: the cache holds every position, up to the context of " + std::to_string(c.context_length);
  held += c.evicted.empty() ? "; nothing evicted this step." : "; evicted this step: " + position_list(c.evicted) + ".";
  r.lines.push_back(held);
  r.lines.push_back("Windowed cached = windowed uncached: max |\xCE\x94logit| " + format_difference(c.cached_vs_uncached) + ".");
  if (c.full_fits)
    r.lines.push_back("Full attention over all " + std::to_string(c.positions) + " positions vs the window: KL " +
                      fmt("%.4f", c.kl_full_windowed) + " nats, max |\xCE\x94p| " + fmt("%.4f", c.max_prob_diff) +
                      "; next token " + quoted(tok.token_text(c.full_top)) + " vs " + quoted(tok.token_text(c.window_top)) + ".");
  if (!c.hard_stop.empty())
    r.lines.push_back("The next step is refused, window or not: \"" + c.hard_stop + "\"");
  if (c.rotary && c.window > 0 && c.positions > c.context_length)
    r.lines.push_back("Position " + std::to_string(c.positions - 1) + " is past the trained context of " +
                      std::to_string(c.context_length) + ": rotary positions look nothing up, so the window keeps decoding "
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
  if (qi < 0) {
    r.lines.push_back("Shared prompt: " + std::to_string(p) + " tokens prefilled once (" +
                      format_short_count(double(s.macs_prefix)) + " multiply-adds). Its cache state is saved: " +
                      std::to_string(p) + " rows per layer, " + format_bytes(s.snapshot_bytes) + " \xE2\x80\x94 a copy of the KvCache.");
    r.numbers["prefix"] = {{"prefix_tokens", p}, {"macs_prefix", s.macs_prefix}, {"snapshot_bytes", s.snapshot_bytes}};
    return;
  }
  const PrefixQuestion& q = s.questions[std::size_t(qi)];
  const int k = step - q.first_step;
  const std::string name = "Question " + std::to_string(qi + 1);
  if (k == 0) {
    std::string line = name + " " + quoted(q.text) + ": cache restored from the saved state; rows " +
                       position_range(0, p - 1) + " reused, " + std::to_string(q.question_ids.size()) + " new per layer";
    if (qi > 0) line += "; question " + std::to_string(qi) + "'s rows were dropped";
    r.lines.push_back(line + ".");
  }
  const bool same = q.answer_ids[std::size_t(k)] == q.fresh_answer_ids[std::size_t(k)];
  r.lines.push_back("Against a fresh run of prompt + question: next token " + quoted(t.next_text) + (same ? " in both \xE2\x9C\x93" : " vs " + quoted(tok.token_text(q.fresh_answer_ids[std::size_t(k)])) + " \xE2\x9C\x95") +
                    ", max |\xCE\x94logit| " + format_difference(q.logit_diffs[std::size_t(k)]) + ".");
  json numbers = {{"question", qi + 1}, {"same_token_as_fresh", same}, {"logit_diff_vs_fresh", q.logit_diffs[std::size_t(k)]}};
  if (step == q.last_step) {
    const std::int64_t saved = q.macs_fresh - q.macs_reused;
    r.lines.push_back(name + " answer " + quoted(text_of(tok, q.answer_ids)) + ": " + format_short_count(double(q.macs_reused)) +
                      " multiply-adds with the prefix reused vs " + format_short_count(double(q.macs_fresh)) + " fresh \xE2\x80\x94 " +
                      format_short_count(double(saved)) + " saved (" + fmt("%.0f", 100.0 * double(saved) / double(q.macs_fresh)) + "%).");
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
      r.lines.push_back((s.questions.size() == 2 ? std::string("Both questions: ") : "All " + std::to_string(s.questions.size()) + " questions: ") + format_short_count(double(with)) +
                        " multiply-adds (prompt once) vs " + format_short_count(double(without)) + " (prompt every time): " +
                        format_short_count(double(without - with)) + " saved.");
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
  r.lines.push_back("Engine (" + in.model.name + "): " + cache_formula(loaded, own, positions, KvDtype::FP32) +
                    "; the engine reports " + format_count(r.engine.engine) + " B " +
                    (r.engine.calculator == r.engine.engine ? "\xE2\x9C\x93" : "\xE2\x9C\x95"));
  const std::int64_t as_mha = cache_bytes_as_mha(config, t);
  std::int64_t rebuild = 0, rebuilt_rows = 0;
  for (const LayerRecord& l : t.cached.forward.layers) {
    rebuild += l.macs.rebuild;
    rebuilt_rows += std::int64_t(l.rebuilt_rows.size());
  }
  const std::int64_t step_macs = t.cached.macs();
  r.lines.push_back("As MHA (K and V of " + std::to_string(config.n_head) + " heads \xC3\x97 " + std::to_string(config.d_head()) +
                    " dims cached) the same positions would take " + format_count(as_mha) + " B: the latent cache is " +
                    fmt("%.1f", 100.0 * double(t.cached.cache_bytes) / double(std::max<std::int64_t>(1, as_mha))) +
                    "% of it. Rebuilding K and V from " + format_count(rebuilt_rows) + " latent rows (all layers) cost " +
                    format_count(rebuild) + " multiply-adds this step (" +
                    fmt("%.1f", 100.0 * double(rebuild) / double(std::max<std::int64_t>(1, step_macs))) + "% of its " +
                    format_count(step_macs) + ").");
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
                      fmt("%.1e", worst) + (worst < 1e-4f ? " \xE2\x9C\x93 (float rounding)" : " \xE2\x9C\x95"));
    numbers["rebuilt_vs_uncached"] = worst;
  }
  r.numbers["engine"] = {{"positions", positions}, {"calculator_bytes", r.engine.calculator}, {"engine_bytes", r.engine.engine}};
  r.numbers["mla"] = numbers;
}

void report_cache_size(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const StepTrace& t = history[step];
  const ModelConfig& config = in.model.model->config();
  const CacheShape loaded = loaded_cache_shape(config, in.model.name);
  // Positions the cache holds per layer at most: a global layer's, when local layers hold fewer.
  int held = 0;
  if (t.cached.ran)
    for (const LayerRecord& l : t.cached.forward.layers) held = std::max(held, int(l.held_rows.size()));
  if (t.cached.ran && config.mla()) {
    report_latent_cache(in, t, loaded, r);
  } else if (t.cached.ran && loaded.n_local_layer() > 0 && t.window == 0) {  // local layers: each holds min(t, its window)
    const AttentionVariant own{"own", loaded.n_kv_head, false, true};
    r.engine = {true, t.position_end, kv_cache_bytes(loaded, own, t.position_end, KvDtype::FP32), t.cached.cache_bytes};
    r.lines.push_back("Engine (" + in.model.name + "): " + cache_formula(loaded, own, t.position_end, KvDtype::FP32) +
                      "; the engine reports " + format_count(r.engine.engine) + " B " +
                      (r.engine.calculator == r.engine.engine ? "\xE2\x9C\x93" : "\xE2\x9C\x95"));
    r.numbers["engine"] = {{"positions", t.position_end}, {"calculator_bytes", r.engine.calculator}, {"engine_bytes", r.engine.engine}};
  } else if (t.cached.ran) {
    r.engine = {true, held, kv_cache_bytes(loaded, loaded.n_kv_head, held, KvDtype::FP32), t.cached.cache_bytes};
    const bool equal = r.engine.calculator == r.engine.engine;
    r.lines.push_back("Engine (" + in.model.name + "): " + cache_product(loaded, loaded.n_kv_head, held, KvDtype::FP32) +
                      " = " + format_count(r.engine.calculator) + " B; the engine reports " + format_count(r.engine.engine) +
                      " B " + (equal ? "\xE2\x9C\x93" : "\xE2\x9C\x95"));
    r.numbers["engine"] = {{"positions", held}, {"calculator_bytes", r.engine.calculator}, {"engine_bytes", r.engine.engine}};
    if (config.kv_heads() < config.n_head) {  // who reads which cached rows, from the trace
      std::string groups;
      for (int g = 0; g < config.kv_heads(); ++g) {
        std::string heads;
        for (int h : t.query_heads_of(g)) heads += (heads.empty() ? "" : ", ") + std::to_string(h);
        groups += (g ? "; " : "") + std::string("KV head ") + std::to_string(g) + " \xE2\x86\x90 query heads " + heads;
      }
      r.lines.push_back("Shared rows: " + groups + ". As MHA (one K/V head per query head) the same cache would be " +
                        format_count(cache_bytes_as_mha(config, t)) + " B.");
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
  std::string line = shape.label + ", " + format_count(c.tokens) + (c.tokens == 1 ? " token, " : " tokens, ") +
                     kv_dtype_info(dtype).name + ":";
  json variants = json::array();
  for (std::size_t i = 0; i < c.variants.size(); ++i) {
    line += std::string(i ? " \xC2\xB7 " : " ") + c.variants[i].name + " " + std::to_string(c.variants[i].n_kv_head) +
            (c.variants[i].hypothetical ? "" : " (the model's)") + ": " + format_decimal_bytes(double(c.bytes[i]));
    variants.push_back({{"name", c.variants[i].name}, {"kv_heads", c.variants[i].n_kv_head}, {"bytes", c.bytes[i]}});
  }
  r.details.push_back(line);
  if (shape.name != "loaded")
    r.details.push_back((shape.kv_lora_rank > 0 ? cache_formula(shape, own_attention_variant(shape), c.tokens, dtype)
                                                : cache_formula(shape, shape.n_kv_head, c.tokens, dtype)) +
                        "; the weights are " +
                    format_decimal_bytes(double(shape.parameters) * kv_dtype_info(dtype).bytes) + " in " +
                    kv_dtype_info(dtype).name + ".");
  r.numbers["calculator"] = {{"shape", shape.name}, {"dtype", kv_dtype_info(dtype).name}, {"tokens", c.tokens},
                             {"variants", variants}};
}

// ---- cache policies: divergence and bytes against full attention ----------------------------------------

// One policy's line at a step: divergence now and on average so far, rows and bytes held, row errors.
std::string policy_line(const std::vector<StepTrace>& history, int step, json& numbers) {
  const PolicyTrace& p = history[std::size_t(step)].cached.policy;
  double mean_kl = 0.0;
  for (int s = 0; s <= step; ++s) mean_kl += history[std::size_t(s)].cached.policy.kl_from_full / double(step + 1);
  const double share = p.full_cache_bytes > 0 ? 100.0 * double(p.cache_bytes) / double(p.full_cache_bytes) : 0.0;
  const std::size_t rows = p.kept_at(0, 0).size();
  std::string line = p.spec + ": KL(full \xE2\x80\x96 policy) " + fmt("%.2e", p.kl_from_full) + " nats (mean " +
                     fmt("%.2e", mean_kl) + " over " + std::to_string(step + 1) + (step ? " steps" : " step") +
                     "), max |\xCE\x94p| " + fmt("%.3f", p.max_abs_prob_diff) + ", top token " +
                     (p.top1_agrees ? "agrees \xE2\x9C\x93" : "differs \xE2\x9C\x95") + "; " + std::to_string(rows) +
                     " rows per layer and KV head, " + format_count(p.cache_bytes) + " B = " + fmt("%.1f", share) +
                     "% of the full cache's " + format_count(p.full_cache_bytes) + " B";
  if (p.max_abs_k_error > 0.0f || p.max_abs_v_error > 0.0f)
    line += "; rows read off by up to |\xCE\x94K| " + fmt("%.1e", p.max_abs_k_error) + ", |\xCE\x94V| " + fmt("%.1e", p.max_abs_v_error);
  numbers.push_back({{"spec", p.spec}, {"kl_from_full", p.kl_from_full}, {"mean_kl_from_full", mean_kl},
                     {"max_abs_prob_diff", p.max_abs_prob_diff}, {"top1_agrees", p.top1_agrees}, {"rows", rows},
                     {"cache_bytes", p.cache_bytes}, {"full_cache_bytes", p.full_cache_bytes}, {"bytes_percent", share},
                     {"max_abs_k_error", p.max_abs_k_error}, {"max_abs_v_error", p.max_abs_v_error}});
  return line + ".";
}

void report_policy(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  if (!history[std::size_t(step)].cached.policy.active) return;
  json numbers = json::array();
  r.lines.push_back(policy_line(history, step, numbers));
  for (const std::vector<StepTrace>* other : in.compared)
    if (other && step < int(other->size())) r.lines.push_back(policy_line(*other, step, numbers));
  r.numbers["policies"] = numbers;
  const PolicyTrace& p = history[std::size_t(step)].cached.policy;
  if (!p.per_head) return;
  // The rule chose by head: say what each KV head of layer 0 kept, and why.
  std::string heads;
  for (std::size_t g = 0; g < p.kept[0].size(); ++g) {
    std::string groups;
    for (const auto& [why, positions] : p.kept_by_reason(0, int(g)))
      groups += (groups.empty() ? "" : ", ") + why + " " + position_list(positions);
    heads += (g ? "; " : "") + std::string("KV head ") + std::to_string(g) + ": " + groups;
  }
  r.lines.push_back("Kept in layer 0, by KV head (" + heads + "): the rule chose them from the attention each head "
                    "gave, so the heads keep different rows.");
}

}  // namespace

// ---- many sequences, one paged cache -------------------------------------------------------------------

namespace {

const SequenceRound* sequence_round(const BatchRound& round, int sequence) {
  for (const SequenceRound& s : round.sequences)
    if (s.sequence == sequence) return &s;
  return nullptr;
}

std::string event_line(const BlockEvent& e, const BatchRound& round, const Tokenizer& tokenizer) {
  const std::string seq = "Sequence " + std::to_string(e.sequence);
  switch (e.kind) {
    case BlockEventKind::Join:
      if (e.position == 0) return seq + " joined with a " + std::to_string(e.count) + "-token prompt; no full block of it is cached yet.";
      return seq + " joined with a " + std::to_string(e.count) + "-token prompt: its first " + std::to_string(e.position) +
             " positions are already in full blocks another sequence holds (shared, not computed).";
    case BlockEventKind::Fork: {
      std::string line = seq + " branched from sequence " + std::to_string(e.other) + ", sharing every block it holds (" +
                         std::to_string(e.count) + "); no row is copied or computed.";
      const SequenceRound* branch = sequence_round(round, e.sequence);
      const SequenceRound* parent = sequence_round(round, e.other);
      if (branch && parent && branch->ran && parent->ran && !branch->input_ids.empty() && !parent->input_ids.empty())
        line += " It feeds its own draw " + quoted(tokenizer.token_text(branch->input_ids.back())) + " where sequence " +
                std::to_string(e.other) + " feeds " + quoted(tokenizer.token_text(parent->input_ids.back())) + ".";
      return line;
    }
    case BlockEventKind::CopyOnWrite:
      return "Copy on write: sequence " + std::to_string(e.sequence) + " was about to write into shared block " + std::to_string(e.other) + ", so block " +
             std::to_string(e.block) + " became its own copy (" + std::to_string(e.count) + (e.count == 1 ? " row" : " rows") + " copied).";
    case BlockEventKind::Truncate:
      return seq + " rolled back to its first " + std::to_string(e.position) + " tokens: " + std::to_string(e.count) +
             " cached rows dropped; the last kept token is fed again for the next choice.";
    case BlockEventKind::Edit: {
      const SequenceRound* s = sequence_round(round, e.sequence);
      const int recomputed = s ? s->rows_recomputed : 0;
      return seq + "'s token at position " + std::to_string(e.position) + " was replaced: " + std::to_string(e.count) +
             " rows from there on were invalid; " + std::to_string(recomputed) + " recomputed this round.";
    }
    case BlockEventKind::Finish: return seq + " is done (" + std::to_string(e.count) + " tokens) and lets go of its blocks.";
    default: return "";  // block by block: counted in the ledger line
  }
}

void report_batch(const LessonInputs& in, const std::vector<StepTrace>& history, int step, LessonReport& r) {
  const BatchRound& round = in.batch->round(step);
  const PoolLedger& l = round.ledger;
  const int block_size = in.batch->session->options().block_size;
  int holding = 0, frees = 0;
  for (const SequenceRound& s : round.sequences) holding += s.block_table.empty() ? 0 : 1;
  for (const BlockEvent& e : round.events) frees += e.kind == BlockEventKind::Free ? 1 : 0;
  // The ledger as details: the window's block-pool view draws them under the pool.
  r.details.push_back("Round " + std::to_string(round.round) + ": " + std::to_string(l.blocks_in_use) + " of " +
                    std::to_string(l.blocks_total) + " blocks in use (" + std::to_string(l.blocks_shared) + " shared), " +
                    std::to_string(l.blocks_free) + " free" + (frees ? " (" + std::to_string(frees) + " freed this round)" : "") +
                    ". " + std::to_string(l.rows_used) + " rows cached in " + std::to_string(l.rows_allocated) +
                    " allocated: " + std::to_string(l.rows_wasted) + " unused, only in last blocks" +
                    (holding ? " (" + fmt("%.1f", double(l.rows_wasted) / holding) + " per sequence, under one block of " +
                                   std::to_string(block_size) + ")" : "") + ".");
  if (l.rows_logical > l.rows_used || l.rows_contiguous > 0)
    r.details.push_back("Without sharing the sequences would hold " + std::to_string(l.rows_logical) +
                      " rows; contiguous buffers reserved at the context length, " + std::to_string(l.rows_contiguous) + ".");
  for (const BlockEvent& e : round.events)
    if (std::string line = event_line(e, round, *in.model.tokenizer); !line.empty()) r.lines.push_back(line);
  std::string chosen;
  for (const SequenceRound& s : round.sequences)
    if (s.ran && s.next_id >= 0)
      chosen += (chosen.empty() ? "" : ", ") + std::to_string(s.sequence) + " \xE2\x86\x92 " + quoted(in.model.tokenizer->token_text(s.next_id));
  if (!chosen.empty()) r.lines.push_back("Next tokens: " + chosen + ".");
  const SequenceRound& first = round.sequences.front();
  const StepTrace& t = history[std::size_t(step)];
  if (first.ran && first.logits.size() == t.cached.logits.size() && t.cached.logits.size() > 0) {
    const float diff = (first.logits - t.cached.logits).cwiseAbs().maxCoeff();
    const bool same = first.next_id == t.next_id;
    r.lines.push_back("Panes: sequence 0's own run (alone, contiguous cache) chose " + quoted(t.next_text) +
                      (same ? "; so did its batch run \xE2\x9C\x93" : "; its batch run chose another token \xE2\x9C\x95") +
                      ", max |\xCE\x94logit| " + format_difference(diff) + ".");
    r.numbers["batch_panes"] = {{"same_token", same}, {"max_logit_diff", diff}};
  } else {
    r.lines.push_back("Panes: sequence 0's own run; in the batch, sequence 0 is " +
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
  }
  return r;
}

}  // namespace kvscope
