#include "core/lessons/prefix_reuse.h"

#include <algorithm>
#include <cassert>
#include <chrono>

#include "core/engine/kernels/error.h"
#include "core/engine/cache/kv_cache.h"
#include "core/engine/session/session.h"

namespace kvscope {

namespace {

// Builds the script's traces in order, keeping the running totals DecodeSession keeps.
class ScriptWriter {
 public:
  ScriptWriter(const LoadedModel& m, PrefixScript& out) : m_(m), out_(out) {}

  // Feeds `feed` at the cache's next position (cached mode, rows before it reused) and recomputes
  // `context` (which ends with feed) from nothing (uncached mode).
  const StepTrace& step(const std::vector<int>& feed, const std::vector<int>& context, KvCache& cache, int question,
                        int forced_next = -1) {
    StepTrace t;
    t.step = int(out_.traces.size());
    t.prefill = feed.size() > 1;
    t.position_begin = cache.next_position();
    t.position_end = t.position_begin + int(feed.size());
    assert(t.position_end == int(context.size()) && "the context ends with the tokens fed");
    t.input_ids = feed;
    t.context_ids = context;
    for (int id : context) t.context_texts.push_back(m_.tokenizer->token_text(id));
    for (ModeTrace* mode : {&t.cached, &t.uncached}) mode->ran = true;
    auto start = std::chrono::steady_clock::now();
    m_.model->forward_cached(feed, cache, 0, t.cached.logits, &t.cached.forward);
    t.cached.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    t.cached.cache_bytes = cache.bytes_held();
    t.cached.cache_bytes_allocated = cache.bytes_allocated();
    start = std::chrono::steady_clock::now();
    m_.model->forward_uncached(context, 0, t.uncached.logits, &t.uncached.forward);
    t.uncached.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const StepTrace* previous = out_.traces.empty() ? nullptr : &out_.traces.back();
    t.cached.total_rows_computed = t.cached.rows_computed() + (previous ? previous->cached.total_rows_computed : 0);
    t.cached.total_macs = t.cached.macs() + (previous ? previous->cached.total_macs : 0);
    t.uncached.total_rows_computed =
        t.uncached.rows_computed() + (previous ? previous->uncached.total_rows_computed : 0);
    t.uncached.total_macs = t.uncached.macs() + (previous ? previous->uncached.total_macs : 0);
    t.max_abs_logit_diff = (t.cached.logits - t.uncached.logits).cwiseAbs().maxCoeff();
    t.forced = forced_next >= 0;
    t.next_id = t.forced ? forced_next : argmax(t.cached.logits);
    t.next_text = m_.tokenizer->token_text(t.next_id);
    t.top = top_tokens(t.cached.logits, 5, *m_.tokenizer);
    out_.traces.push_back(std::move(t));
    out_.question_of_step.push_back(question);
    return out_.traces.back();
  }

 private:
  const LoadedModel& m_;
  PrefixScript& out_;
};

// A fresh run of prefix + question: prefill, then answer_tokens - 1 decode steps, cached mode only.
void run_fresh(const LoadedModel& m, const std::vector<int>& prompt, int answer_tokens, const PrefixScript& script,
               PrefixQuestion& q) {
  SessionOptions options;
  options.run_uncached = false;
  options.record_attention = options.record_rows = false;
  DecodeSession fresh(m.model, m.tokenizer, options);
  fresh.start(prompt, {});
  for (int s = 0; s < answer_tokens; ++s) {
    const StepTrace& t = fresh.step();
    const StepTrace& reused = script.traces[std::size_t(q.first_step + s)];
    q.fresh_answer_ids.push_back(t.next_id);
    q.macs_fresh += t.cached.macs();
    q.logit_diffs.push_back((t.cached.logits - reused.cached.logits).cwiseAbs().maxCoeff());
    q.max_logit_diff = std::max(q.max_logit_diff, q.logit_diffs.back());
  }
}

}  // namespace

PrefixScript run_prefix_script(const LoadedModel& m, const std::vector<int>& prefix_ids,
                               const std::vector<std::vector<int>>& question_ids,
                               const std::vector<std::string>& question_texts, int answer_tokens) {
  const ModelConfig& c = m.model->config();
  if (prefix_ids.empty()) throw DataError("the shared prompt is empty");
  if (answer_tokens < 1) throw UsageError("answer_tokens must be at least 1");
  for (std::size_t i = 0; i < question_ids.size(); ++i) {
    const std::size_t need = prefix_ids.size() + question_ids[i].size() + std::size_t(answer_tokens) - 1;
    if (question_ids[i].empty()) throw DataError("question " + std::to_string(i + 1) + " is empty");
    if (int(need) > c.context_length)
      throw DataError("the shared prompt (" + std::to_string(prefix_ids.size()) + " tokens), question " +
                      std::to_string(i + 1) + " (" + std::to_string(question_ids[i].size()) + ") and " +
                      std::to_string(answer_tokens) + " answer tokens need " + std::to_string(need) +
                      " positions but the context length is " + std::to_string(c.context_length));
    for (int id : question_ids[i])
      if (id < 0 || id >= c.vocab_size) throw DataError("token id " + std::to_string(id) + " is outside the vocabulary");
  }
  PrefixScript script;
  script.prefix_ids = prefix_ids;
  ScriptWriter writer(m, script);
  KvCache cache(c, 0);
  const int first_question_token = question_ids.empty() ? -1 : question_ids[0][0];
  script.macs_prefix = writer.step(prefix_ids, prefix_ids, cache, -1, first_question_token).cached.macs();
  const KvCache snapshot = cache;  // the saved state every question starts from
  script.snapshot_bytes = snapshot.bytes_held();
  for (std::size_t i = 0; i < question_ids.size(); ++i) {
    PrefixQuestion q;
    q.text = i < question_texts.size() ? question_texts[i] : "";
    q.question_ids = question_ids[i];
    q.first_step = int(script.traces.size());
    cache = snapshot;  // restore: the previous question's rows are dropped, the prefix's kept
    std::vector<int> context = prefix_ids;
    context.insert(context.end(), q.question_ids.begin(), q.question_ids.end());
    std::vector<int> feed = q.question_ids;
    for (int s = 0; s < answer_tokens; ++s) {
      const StepTrace& t = writer.step(feed, context, cache, int(i));
      q.macs_reused += t.cached.macs();
      q.answer_ids.push_back(t.next_id);
      feed = {t.next_id};
      context.push_back(t.next_id);
    }
    q.last_step = int(script.traces.size()) - 1;
    std::vector<int> fresh_prompt = prefix_ids;
    fresh_prompt.insert(fresh_prompt.end(), q.question_ids.begin(), q.question_ids.end());
    run_fresh(m, fresh_prompt, answer_tokens, script, q);
    script.questions.push_back(std::move(q));
  }
  return script;
}

}  // namespace kvscope
