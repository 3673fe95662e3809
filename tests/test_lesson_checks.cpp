// The claims the lessons make, each checked against an independent computation: the Q lesson's exact
// zero, the two "duck" rows, the windowed context, the reused prefix and the cache calculator.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/lessons/cache_calculator.h"
#include "core/lessons/caption.h"
#include "core/engine/kernels/error.h"
#include "core/lessons/lesson_run.h"
#include "lesson_helpers.h"
#include "core/engine/session/session.h"
#include "reference_gpt.h"

using namespace kvscope;

namespace {

const LoadedModel& demo() {
  static const LoadedModel m = load_preset("demo");
  return m;
}

LessonRun run_to_end(const std::string& name) { return test::run_lesson_to_end(name, demo()); }

// Attention output of the newest query row, in double, written from the definition: every head's
// softmax(q·k / sqrt(d_head)) over positions 0..newest, times V. Only the newest Q row goes in.
std::vector<double> newest_output(const Matrix& queries, const Matrix& keys, const Matrix& values, int n_head) {
  const int n = int(keys.rows()), d = int(keys.cols()), dh = d / n_head;
  std::vector<double> out(std::size_t(d), 0.0);
  for (int h = 0; h < n_head; ++h) {
    std::vector<double> w(static_cast<std::size_t>(n));
    double max_score = -1e300, sum = 0;
    for (int k = 0; k < n; ++k) {
      double dot = 0;
      for (int j = 0; j < dh; ++j) dot += double(queries(n - 1, h * dh + j)) * keys(k, h * dh + j);
      w[std::size_t(k)] = dot / std::sqrt(double(dh));
      max_score = std::max(max_score, w[std::size_t(k)]);
    }
    for (double& x : w) sum += (x = std::exp(x - max_score));
    for (int k = 0; k < n; ++k)
      for (int j = 0; j < dh; ++j) out[std::size_t(h * dh + j)] += w[std::size_t(k)] / sum * values(k, h * dh + j);
  }
  return out;
}

double cosine(const RowVector& a, const RowVector& b) {
  return a.cast<double>().dot(b.cast<double>()) / (a.cast<double>().norm() * b.cast<double>().norm());
}

}  // namespace

TEST_CASE("Q lesson: older query rows do not change the newest output, exactly", "[lesson_checks]") {
  const LessonRun run = run_to_end("why_not_cache_q");
  const ModelConfig& config = demo().model->config();
  const int n_head = config.n_head;
  for (int s = 0; s < run.steps_done(); ++s) {
    const StepTrace& t = run.history()[std::size_t(s)];
    const std::vector<QueryRowCheck>& checks = run.reports()[std::size_t(s)].query;
    REQUIRE(checks.size() == 2);
    for (const QueryRowCheck& c : checks) {
      INFO("step " << s << " layer " << c.layer);
      CHECK(c.n_query_rows == t.position_end);
      CHECK(c.full_vs_single == 0.0f);        // bitwise
      CHECK(c.older_rows_perturbed == 0.0f);  // bitwise
      CHECK(c.older_outputs_moved > 0.1f);    // the noise did reach the older rows' own outputs
      CHECK(c.recomputed_vs_model <= 1e-6f);  // the recomputation is the model's own attention
      CHECK(c.cached_vs_uncached_output >= 0.0f);
      CHECK(c.cached_vs_uncached_output < 1e-5f);  // rounding only
      // Independent: the newest output in double from the trace's Q, K, V.
      const LayerRecord& u = t.uncached.forward.layers[std::size_t(c.layer)];
      const Matrix ours = attention_outputs(config, c.layer, 0, u.queries, u.keys, u.values, 0);
      const std::vector<double> reference = newest_output(u.queries, u.keys, u.values, n_head);
      for (int j = 0; j < int(reference.size()); ++j) CHECK(ours(ours.rows() - 1, j) == Approx(reference[std::size_t(j)]).margin(1e-5));
    }
  }
  // The comparison can fail: changing the newest query row does move the newest output.
  const LayerRecord& u = run.history().back().uncached.forward.layers[0];
  Matrix q = u.queries;
  q(q.rows() - 1, 0) += 1.0f;
  const Matrix a = attention_outputs(config, 0, 0, u.queries, u.keys, u.values, 0);
  const Matrix b = attention_outputs(config, 0, 0, q, u.keys, u.values, 0);
  CHECK((a.bottomRows(1) - b.bottomRows(1)).cwiseAbs().maxCoeff() > 0.0f);
  // The lesson says so in words: "0 (bitwise identical)".
  CHECK_THAT(run.reports()[2].lines[0], Catch::Contains("max |\xCE\x94| = 0 (bitwise identical)"));
}

TEST_CASE("same-word lesson: two different 'duck' rows; layer 0 differs by the position embedding alone", "[lesson_checks]") {
  const LessonRun run = run_to_end("same_word_two_positions");
  CHECK_FALSE(run.reports()[0].same_word.found);  // one 'duck' after the prefill
  const SameWordCheck& c = run.reports()[1].same_word;
  REQUIRE(c.found);
  CHECK(c.word == "duck");
  CHECK(c.first == 3);
  CHECK(c.second == 6);
  const StepTrace& t = run.history()[1];
  REQUIRE(c.layers.size() == 2);
  for (const RowPairCheck& l : c.layers) {
    INFO("layer " << l.layer);
    CHECK(l.key_cosine < 0.999f);
    CHECK(l.value_cosine < 0.999f);
    CHECK(l.key_max_diff > 1e-3f);
    // Independent: the uncached pass recomputed both rows from scratch at this step.
    const LayerRecord& u = t.uncached.forward.layers[std::size_t(l.layer)];
    CHECK(l.key_cosine == Approx(cosine(u.keys.row(3), u.keys.row(6))).margin(1e-4));
    CHECK(l.value_cosine == Approx(cosine(u.values.row(3), u.values.row(6))).margin(1e-4));
  }
  // Layer 0: x_p = wte[duck] + wpe[p]; the difference is wpe[3] - wpe[6], exactly in double.
  const ModelWeights& w = demo().model->weights();
  const ModelConfig& config = demo().model->config();
  const int id = c.token_id;
  CHECK(t.context_ids[3] == id);
  CHECK(t.context_ids[6] == id);
  double deviation = 0, pe = 0;
  for (int i = 0; i < config.d_model; ++i) {
    const double x3 = double(w.token_embedding.f32()(id, i)) + double(w.position_embedding.f32()(3, i));
    const double x6 = double(w.token_embedding.f32()(id, i)) + double(w.position_embedding.f32()(6, i));
    deviation = std::max(deviation, std::abs((x3 - x6) - (double(w.position_embedding.f32()(3, i)) - w.position_embedding.f32()(6, i))));
    pe = std::max(pe, std::abs(double(w.position_embedding.f32()(3, i)) - w.position_embedding.f32()(6, i)));
  }
  CHECK(deviation == 0.0);
  CHECK(c.input_vs_position_exact == 0.0);
  CHECK(c.input_vs_position_float <= 1e-6f);
  CHECK(c.position_diff_max == Approx(pe).margin(1e-7));
  CHECK(pe > 0.01);
  // And layer 0's K rows are LN(x_p) W_k + b_k of those inputs (reference forward, double).
  const LayerWeights& l0 = w.layers[0];
  for (int p : {3, 6}) {
    reference::Vec x(std::size_t(config.d_model));
    for (int i = 0; i < config.d_model; ++i) x[std::size_t(i)] = double(w.token_embedding.f32()(id, i)) + w.position_embedding.f32()(p, i);
    const reference::Vec qkv = reference::affine(l0.attn_qkv, &l0.attn_qkv_bias,
                                                 reference::layer_norm(x, l0.ln_1_gamma, l0.ln_1_beta, config.layer_norm_eps));
    const RowVector& k = p == 3 ? c.layers[0].key_first : c.layers[0].key_second;
    for (int i = 0; i < config.d_model; ++i) CHECK(k[i] == Approx(qkv[std::size_t(config.d_model + i)]).margin(1e-4));
  }
}

TEST_CASE("context lesson: windowed cached = windowed uncached; the distribution against full attention", "[lesson_checks]") {
  const LessonRun run = run_to_end("context_limit");
  const ModelConfig& config = demo().model->config();
  const int window = run.lesson().window;
  REQUIRE(window == 16);
  for (int s = 0; s < run.steps_done(); ++s) {
    const StepTrace& t = run.history()[std::size_t(s)];
    const ContextCheck& c = run.reports()[std::size_t(s)].context;
    INFO("step " << s);
    CHECK(t.max_abs_logit_diff <= 1e-4f);
    CHECK(c.cached_vs_uncached == t.max_abs_logit_diff);
    CHECK(c.first_held == std::max(0, t.position_end - window));
    // Evicted: 0..P-W-1 at the prefill, then one row per step.
    std::vector<int> evicted;
    const int before = s == 0 ? 0 : t.position_begin - window;
    for (int p = std::max(0, before); p < t.position_end - window; ++p) evicted.push_back(p);
    CHECK(c.evicted == evicted);
    // Independent: the windowed logits against the double-precision reference with the same window.
    const reference::Vec windowed = reference::last_logits(config, demo().model->weights(), t.context_ids, window);
    for (int i = 0; i < int(windowed.size()); ++i) CHECK(t.cached.logits[i] == Approx(windowed[std::size_t(i)]).margin(2e-3));
    REQUIRE(t.position_end <= config.context_length);  // a window never runs past the learned positions
    {
      REQUIRE(c.full_fits);
      // Only the last step's successor would need position 33: that one is refused.
      if (t.position_end < config.context_length)
        CHECK(c.hard_stop.empty());
      else
        CHECK_THAT(c.hard_stop, Catch::Contains("the context length is 32 tokens"));
      const reference::Vec full = reference::last_logits(config, demo().model->weights(), t.context_ids, 0);
      RowVector f(Eigen::Index(full.size())), w(Eigen::Index(full.size()));
      for (std::size_t i = 0; i < full.size(); ++i) {
        f[Eigen::Index(i)] = float(full[i]);
        w[Eigen::Index(i)] = float(windowed[i]);
      }
      // softmax written here, in double from the reference's logits.
      auto probabilities = [](const RowVector& x) {
        std::vector<double> p;
        double sum = 0;
        for (Eigen::Index i = 0; i < x.size(); ++i) sum += p.emplace_back(std::exp(double(x[i]) - double(x.maxCoeff())));
        for (double& v : p) v /= sum;
        return p;
      };
      const std::vector<double> pf = probabilities(f), pw = probabilities(w);
      double kl = 0, max_dp = 0;
      for (std::size_t i = 0; i < pf.size(); ++i) {
        kl += pf[i] * std::log(pf[i] / pw[i]);
        max_dp = std::max(max_dp, std::abs(pf[i] - pw[i]));
      }
      CHECK(c.kl_full_windowed == Approx(kl).margin(1e-4));
      CHECK(c.max_prob_diff == Approx(max_dp).margin(1e-4));
    }
  }
  CHECK(run.steps_done() == 5);
  CHECK(run.history().back().position_end == config.context_length);
  CHECK(run.reports()[4].context.kl_full_windowed > 1e-3);  // the window does move the distribution
  // The hard stop is real: without a window the session refuses the step the lesson marks.
  SessionOptions options;
  DecodeSession full(demo().model, demo().tokenizer, options);
  full.start(demo().tokenizer->encode(run.lesson().prompt), demo().tokenizer->encode(run.lesson().continuation));
  for (int s = 0; s < 5; ++s) full.step();
  CHECK_THROWS_AS(full.step(), DataError);
  CHECK(full.steps_done() == 5);
}

TEST_CASE("prefix lesson: reused prefix gives a fresh run's outputs, and the multiply-adds saved", "[lesson_checks]") {
  const LessonRun run = run_to_end("reusing_a_prefix");
  const Lesson& lesson = run.lesson();
  const Tokenizer& tok = *demo().tokenizer;
  const ModelConfig& config = demo().model->config();
  const std::vector<int> prefix = tok.encode(lesson.prompt);
  const std::int64_t d = config.d_model, L = config.n_layer, V = config.vocab_size;
  // Closed form of one forward call feeding n rows after `before` cached ones (see forward_record.h).
  auto macs = [&](std::int64_t before, std::int64_t n) {
    std::int64_t keys = 0;
    for (std::int64_t p = before; p < before + n; ++p) keys += p + 1;
    return L * (n * d * 3 * d + 2 * keys * d + n * d * d + n * 8 * d * d) + d * V;
  };
  std::int64_t with_reuse = macs(0, std::int64_t(prefix.size())), without = 0;
  CHECK(run.history()[0].cached.macs() == with_reuse);
  int step = 1;
  for (std::size_t q = 0; q < lesson.questions.size(); ++q) {
    INFO("question " << q + 1);
    const std::vector<int> question = tok.encode(lesson.questions[q]);
    std::vector<int> prompt = prefix;
    prompt.insert(prompt.end(), question.begin(), question.end());
    // Independent fresh run: a new session on prefix + question, greedy.
    DecodeSession fresh(demo().model, demo().tokenizer, SessionOptions{});
    fresh.start(prompt, {});
    for (int k = 0; k < lesson.answer_tokens; ++k, ++step) {
      const StepTrace& f = fresh.step();
      const StepTrace& r = run.history()[std::size_t(step)];
      CHECK(r.next_id == f.next_id);
      CHECK((r.cached.logits - f.cached.logits).cwiseAbs().maxCoeff() <= 1e-5f);
      CHECK(r.cached.forward.layers[0].reused_rows.size() == prefix.size() + std::size_t(k == 0 ? 0 : question.size() + k - 1));
      const std::int64_t before = std::int64_t(prefix.size()) + (k ? std::int64_t(question.size()) + k - 1 : 0);
      const std::int64_t n = k ? 1 : std::int64_t(question.size());
      CHECK(r.cached.macs() == macs(before, n));
      with_reuse += macs(before, n);
      without += k ? macs(before, 1) : macs(0, std::int64_t(prompt.size()));
    }
  }
  const nlohmann::json& last = run.reports().back().numbers["prefix"];
  CHECK(last["total_with_reuse"].get<std::int64_t>() == with_reuse);
  CHECK(last["total_without_reuse"].get<std::int64_t>() == without);
  // Each fresh run prefills the prefix's rows again (its logits row aside); reuse prefills them once.
  const std::int64_t n_q = std::int64_t(lesson.questions.size()), prefill = macs(0, std::int64_t(prefix.size()));
  CHECK(without - with_reuse == n_q * (prefill - d * V) - prefill);
  CHECK(without - with_reuse > 0);
}

TEST_CASE("cache calculator: the closed form and the engine's bytes", "[lesson_checks]") {
  // 4096 dims, 32 heads (head dim 128), 32 layers, 32768 tokens, bf16: 2 * 32 * 4096 * 32768 * 2 bytes.
  const CacheShape llama = find_cache_shape("llama-3-8b", demo().model->config(), "demo");
  CHECK(llama.n_head * llama.d_head == 4096);
  const double mha = 2.0 * 32 * 4096 * 32768 * 2;
  CHECK(kv_cache_bytes(llama, 32, 32768, KvDtype::BF16) == std::int64_t(mha));
  CHECK(kv_cache_bytes(llama, 32, 32768, KvDtype::BF16) == Approx(17.18e9).margin(0.005e9));
  CHECK(kv_cache_bytes(llama, 8, 32768, KvDtype::BF16) == Approx(4.29e9).margin(0.005e9));
  CHECK(kv_cache_bytes(llama, 8, 32768, KvDtype::BF16) * 4 == kv_cache_bytes(llama, 32, 32768, KvDtype::BF16));
  CHECK(format_decimal_bytes(double(kv_cache_bytes(llama, 32, 32768, KvDtype::BF16))) == "17.18 GB");
  CHECK(format_decimal_bytes(double(kv_cache_bytes(llama, 8, 32768, KvDtype::BF16))) == "4.29 GB");
  CHECK(kv_cache_bytes(llama, 8, 32768, KvDtype::FP8) * 2 == kv_cache_bytes(llama, 8, 32768, KvDtype::BF16));
  CHECK(kv_cache_bytes(llama, 8, 32768, KvDtype::FP32) == 2 * kv_cache_bytes(llama, 8, 32768, KvDtype::BF16));
  const std::vector<AttentionVariant> v = attention_variants(llama);
  REQUIRE(v.size() == 3);
  CHECK((v[0].name == "MHA" && v[0].n_kv_head == 32 && v[0].hypothetical));
  CHECK((v[1].name == "GQA" && v[1].n_kv_head == 8 && !v[1].hypothetical));
  CHECK((v[2].name == "MQA" && v[2].n_kv_head == 1));
  // GPT-2 small: 12 layers x 768 dims x 1024 tokens x fp32 = 75,497,472 bytes.
  const CacheShape small = find_cache_shape("gpt2-small", demo().model->config(), "demo");
  CHECK(kv_cache_bytes(small, small.n_kv_head, 1024, KvDtype::FP32) == 2LL * 12 * 768 * 1024 * 4);
  CHECK_THROWS_AS(find_cache_shape("gpt5", demo().model->config(), "demo"), UsageError);
  CHECK(cache_formula(llama, 8, 32768, KvDtype::BF16) ==
        "2 \xC3\x97 32 layers \xC3\x97 8 KV heads \xC3\x97 128 head dim \xC3\x97 32,768 tokens \xC3\x97 2 B (bf16) = 4.29 GB");

  // The loaded model: the calculator equals the bytes the engine reports, with and without a window.
  const LessonRun run = run_to_end("cache_size");
  const ModelConfig& c = demo().model->config();
  for (int s = 0; s < run.steps_done(); ++s) {
    const EngineBytes& e = run.reports()[std::size_t(s)].engine;
    REQUIRE(e.set);
    CHECK(e.positions == s + 1);
    CHECK(e.engine == run.history()[std::size_t(s)].cached.cache_bytes);
    CHECK(e.calculator == e.engine);
    CHECK(e.engine == 2LL * c.n_layer * c.d_model * (s + 1) * 4);
  }
  CHECK(run.reports()[3].calculator.bytes == std::vector<std::int64_t>{17179869184LL, 4294967296LL, 536870912LL});
  const CacheShape loaded = loaded_cache_shape(c, "demo");
  SessionOptions options;
  options.window = 4;
  DecodeSession windowed(demo().model, demo().tokenizer, options);
  windowed.start(demo().tokenizer->encode("Time"), {});
  for (int s = 0; s < 8; ++s) {
    const StepTrace& t = windowed.step();
    CHECK(t.cached.cache_bytes == kv_cache_bytes(loaded, loaded.n_kv_head, std::min(4, s + 1), KvDtype::FP32));
  }
}
