#include "core/lessons/speculative_script.h"

#include <chrono>

#include "core/engine/session/sampling.h"

namespace kvscope {

namespace {
// The uncached side: every position of `context` recomputed from nothing.
void recompute(const LoadedModel& m, const std::vector<int>& context, ModeTrace& mode) {
  mode.ran = true;
  const auto start = std::chrono::steady_clock::now();
  m.model->forward_uncached(context, 0, mode.logits, &mode.forward);
  mode.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void add_totals(ModeTrace& mode, const ModeTrace* previous) {
  mode.total_rows_computed = mode.rows_computed() + (previous ? previous->total_rows_computed : 0);
  mode.total_macs = mode.macs() + (previous ? previous->total_macs : 0);
}

// What the trace's context, next token and agreement say, from the two modes' logits.
void finish(const LoadedModel& m, StepTrace& t, const std::vector<int>& context, int next_id) {
  t.context_ids = context;
  for (int id : context) t.context_texts.push_back(m.tokenizer->token_text(id));
  t.next_id = next_id;
  t.next_text = m.tokenizer->token_text(next_id);
  t.top = top_tokens(t.cached.logits, 5, *m.tokenizer);
  t.max_abs_logit_diff = (t.cached.logits - t.uncached.logits).cwiseAbs().maxCoeff();
  t.top1_agrees = argmax(t.cached.logits) == argmax(t.uncached.logits);
}
}  // namespace

SpeculativeScript run_speculative_script(const LoadedModel& target, const LoadedModel& draft,
                                         const std::vector<int>& prompt, int draft_tokens, int new_tokens) {
  SpeculativeOptions options;
  options.draft_tokens = draft_tokens;
  options.record = true;
  SpeculativeDecoder decoder(target.model, draft.model, options);
  decoder.start(prompt, new_tokens);

  SpeculativeScript script;
  script.draft_name = draft.name;
  script.draft_tokens = draft_tokens;
  script.prompt_length = int(prompt.size());
  SpeculativeScript::Totals totals;

  StepTrace first;
  first.prefill = true;
  first.position_end = int(prompt.size());
  first.input_ids = prompt;
  first.cached.ran = true;
  first.cached.forward = decoder.prefill_record();
  first.cached.logits = decoder.prefill_logits();
  first.cached.seconds = decoder.prefill_seconds();
  recompute(target, prompt, first.uncached);
  add_totals(first.cached, nullptr);
  add_totals(first.uncached, nullptr);
  finish(target, first, prompt, decoder.tokens().back());
  first.cached.cache_bytes = decoder.target_cache().rows().bytes_held();
  first.cached.cache_bytes_allocated = decoder.target_cache().rows().bytes_allocated();
  totals = {1, 1, 0, 0, 1, 1};
  script.traces.push_back(std::move(first));
  script.totals.push_back(totals);

  while (!decoder.done()) {
    const SpeculativeRound& r = decoder.round();
    const int k = int(r.drafted.size());
    StepTrace t;
    t.step = int(script.traces.size());
    t.position_begin = r.first_position;
    t.position_end = r.first_position + k + 1;
    t.input_ids = {r.pending};
    t.input_ids.insert(t.input_ids.end(), r.drafted.begin(), r.drafted.end());
    t.cached.ran = true;
    t.cached.forward = r.target_record;
    t.cached.logits = r.kept_logits;
    t.cached.seconds = r.target_seconds;
    for (int p = r.first_position + r.accepted + 1; p < t.position_end; ++p) t.cached.rolled_back.push_back(p);
    for (LayerRecord& l : t.cached.forward.layers) {  // held after the round: the rolled-back rows are gone
      l.held_rows.clear();
      for (int p = 0; p <= r.first_position + r.accepted; ++p) l.held_rows.push_back(p);
    }
    t.cached.cache_bytes = decoder.target_cache().rows().bytes_held();
    t.cached.cache_bytes_allocated = decoder.target_cache().rows().bytes_allocated();
    // What the target read in this pass: the tokens so far, then the guesses.
    std::vector<int> context(decoder.tokens().begin(), decoder.tokens().begin() + r.first_position);
    context.insert(context.end(), t.input_ids.begin(), t.input_ids.end());
    // Without a cache: every position up to the last kept guess, recomputed, for the same next token.
    const std::vector<int> kept(context.begin(), context.begin() + r.first_position + r.accepted + 1);
    recompute(target, kept, t.uncached);
    add_totals(t.cached, &script.traces.back().cached);
    add_totals(t.uncached, &script.traces.back().uncached);
    finish(target, t, context, r.next_id);
    totals.target_passes += 1;
    totals.draft_passes += r.draft_passes;
    totals.drafted += k;
    totals.accepted += r.accepted;
    totals.new_tokens += r.accepted + 1;
    totals.plain_passes = totals.new_tokens;
    script.traces.push_back(std::move(t));
    script.totals.push_back(totals);
    script.rounds.push_back(r);
  }
  script.tokens = decoder.tokens();
  return script;
}

}  // namespace kvscope
