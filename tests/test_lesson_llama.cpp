// The lessons on demo-llama: each claim against an independent computation (tests/llama_reference.h:
// a double-precision forward with its own rotation code) or a closed form from the shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/engine/model/tensor_table.h"
#include "core/lessons/cache_calculator.h"
#include "core/lessons/rotary_pairs.h"
#include "core/lessons/lesson_run.h"
#include "lesson_helpers.h"
#include "llama_reference.h"

using namespace kvscope;

namespace {

const LoadedModel& demo_llama() {
  static const LoadedModel m = load_preset("demo-llama");
  return m;
}

LessonRun run_to_end(const std::string& name) { return test::run_lesson_to_end(name, demo_llama()); }

// The built-in model's tensors under their Hugging Face names, for the independent forward.
llama_ref::Model reference_of(const LoadedModel& m) {
  const ModelConfig& c = m.model->config();
  llama_ref::Model r;
  r.s.vocab = c.vocab_size, r.s.hidden = c.d_model, r.s.ff = c.d_ff(), r.s.layers = c.n_layer, r.s.heads = c.n_head;
  r.s.kv_heads = c.kv_heads(), r.s.head_dim = c.d_head(), r.s.context = c.context_length, r.s.theta = c.rope_theta;
  visit_tensors(c, m.model->weights(), [&r](const TensorSpec& spec, const auto& t) {
    if (t.size() == 0) return;
    r.tensors[spec.name] = {{t.rows(), t.cols()}, std::vector<float>(t.data(), t.data() + t.size())};
  });
  return r;
}

// Rotates one head of a row to `position` (rotate-half), written again here.
std::vector<double> rotated(const float* head, int d_head, double theta, int position) {
  std::vector<double> out(head, head + d_head);
  for (int i = 0; i < d_head / 2; ++i) {
    const double a = position * std::pow(theta, -2.0 * i / d_head);
    out[i] = head[i] * std::cos(a) - head[i + d_head / 2] * std::sin(a);
    out[i + d_head / 2] = head[i + d_head / 2] * std::cos(a) + head[i] * std::sin(a);
  }
  return out;
}

}  // namespace

TEST_CASE("rotary same-word lesson: equal keys before rotation, turned by their distance after", "[lesson_checks][llama]") {
  const LessonRun run = run_to_end("same_word_rope");
  const ModelConfig& c = demo_llama().model->config();
  const SameWordCheck& check = run.reports().back().same_word;
  REQUIRE(check.found);
  CHECK(check.rotary);
  CHECK(check.first == 3);
  CHECK(check.second == 6);
  CHECK(check.word == " duck");
  // From the traces: position 3's key came from step 0 (prefill), position 6's from step 1.
  const LayerRecord& prefill = run.history()[0].cached.forward.layers[0];
  const LayerRecord& second = run.history()[1].cached.forward.layers[0];
  REQUIRE(second.computed_rows == std::vector<int>{6});
  const float* u3 = prefill.keys_unrotated.row(3).data();
  const float* u6 = second.keys_unrotated.row(0).data();
  for (int i = 0; i < c.kv_dim(); ++i) CHECK_THAT(double(u6[i]), Catch::Matchers::WithinAbs(u3[i], 1e-5));
  for (int g = 0; g < c.kv_heads(); ++g) {
    const int off = g * c.d_head();
    // The cached key is the unrotated one turned to its position, and key 6 is key 3 turned by 3.
    const std::vector<double> k6 = rotated(u6 + off, c.d_head(), c.rope_theta, 6);
    const std::vector<double> k3_by_3 = rotated(prefill.keys.row(3).data() + off, c.d_head(), c.rope_theta, 3);
    for (int i = 0; i < c.d_head(); ++i) {
      CHECK_THAT(double(second.keys(0, off + i)), Catch::Matchers::WithinAbs(k6[i], 1e-5));
      CHECK_THAT(double(second.keys(0, off + i)), Catch::Matchers::WithinAbs(k3_by_3[i], 1e-5));
    }
  }
  CHECK(check.unrotated_max_diff < 1e-5f);
  CHECK(check.rotation_residual < 1e-5f);
  CHECK(check.rotated_max_diff > 0.1f);  // what the cache holds differs
  // Relative positions: query head 0 against its KV head, from the recorded rotated rows. The same input at
  // 3 and at 6: q3·k3 = q6·k6 (distance 0 both), while q6·k3 (distance 3) differs.
  REQUIRE(check.relative_checked);
  const int d = c.d_head(), k_off = c.kv_head_of(0) * d;
  auto dot = [&](const float* q, const float* k) {
    double sum = 0.0;
    for (int i = 0; i < d; ++i) sum += double(q[i]) * double(k[k_off + i]);
    return sum / std::sqrt(double(d));
  };
  const double s33 = dot(prefill.queries.row(3).data(), prefill.keys.row(3).data());
  const double s66 = dot(second.queries.row(0).data(), second.keys.row(0).data());
  const double s63 = dot(second.queries.row(0).data(), prefill.keys.row(3).data());
  CHECK(check.score_first == Approx(s33).margin(1e-6));
  CHECK(check.score_second == Approx(s66).margin(1e-6));
  CHECK(check.score_across == Approx(s63).margin(1e-6));
  CHECK(std::abs(s33 - s66) < 1e-4);
  CHECK(std::abs(s63 - s33) > 0.1);
}

TEST_CASE("past-the-context lesson: the rotary model decodes past 64 positions with a window, as the reference does", "[lesson_checks][llama]") {
  LessonRun run(builtin_lesson("past_the_context"), demo_llama());
  const llama_ref::Model reference = reference_of(demo_llama());
  const int window = run.lesson().window;
  REQUIRE(window == 16);
  for (int s = 0; s < run.lesson_steps(); ++s) {
    run.step();  // checked as it is shown: older steps keep only their small fields (bounded memory)
    const StepTrace& t = run.history()[std::size_t(s)];
    const ContextCheck& c = run.reports()[std::size_t(s)].context;
    INFO("step " << s << ", " << t.position_end << " positions");
    CHECK(c.hard_stop.empty());  // nothing refuses a rotary model with a window
    CHECK(c.first_held == std::max(0, t.position_end - window));
    const llama_ref::Vec windowed = llama_ref::last_logits(reference, t.context_ids, window);
    const llama_ref::Vec full = llama_ref::last_logits(reference, t.context_ids, 0);
    double scale = 1.0, kl = 0.0, sum_w = 0.0, sum_f = 0.0, max_w = -1e300, max_f = -1e300;
    for (std::size_t i = 0; i < windowed.size(); ++i) {
      scale = std::max(scale, std::abs(windowed[i]));
      max_w = std::max(max_w, windowed[i]);
      max_f = std::max(max_f, full[i]);
    }
    for (std::size_t i = 0; i < windowed.size(); ++i) {
      CHECK_THAT(double(t.cached.logits[Eigen::Index(i)]), Catch::Matchers::WithinAbs(windowed[i], 1e-4 * scale));
      sum_w += std::exp(windowed[i] - max_w);
      sum_f += std::exp(full[i] - max_f);
    }
    for (std::size_t i = 0; i < full.size(); ++i) {
      const double pf = std::exp(full[i] - max_f) / sum_f, pw = std::exp(windowed[i] - max_w) / sum_w;
      kl += pf * std::log(pf / pw);
    }
    REQUIRE(c.full_fits);
    CHECK_THAT(c.kl_full_windowed, Catch::Matchers::WithinAbs(kl, 1e-3 * std::max(1.0, kl)));
  }
  CHECK(run.history().back().position_end > demo_llama().model->config().context_length);
}

TEST_CASE("fewer-KV-heads lesson: the cache is 2 x layers x KV heads x d_head x t x 4, and MHA would be twice it", "[lesson_checks][llama]") {
  const LessonRun run = run_to_end("fewer_kv_heads");
  const ModelConfig& c = demo_llama().model->config();
  REQUIRE(c.kv_heads() == 2);
  REQUIRE(c.n_head == 4);
  for (int s = 0; s < run.steps_done(); ++s) {
    const StepTrace& t = run.history()[std::size_t(s)];
    const std::int64_t closed_form = 2LL * c.n_layer * 2 * c.d_head() * t.position_end * 4;
    CHECK(t.cached.cache_bytes == closed_form);
    CHECK(run.reports()[std::size_t(s)].engine.engine == closed_form);
    // As MHA: 4 K/V heads instead of 2, from the shapes (the window's cache label and memory chart).
    CHECK(cache_bytes_as_mha(c, t) == 2LL * c.n_layer * 4 * c.d_head() * t.position_end * 4);
    CHECK(t.query_heads_of(0) == std::vector<int>{0, 1});
    CHECK(t.query_heads_of(1) == std::vector<int>{2, 3});
    bool mentions_mha = false;
    for (const std::string& line : run.reports()[std::size_t(s)].lines)
      mentions_mha = mentions_mha || line.find("As MHA") != std::string::npos;
    CHECK(mentions_mha);
  }
}

TEST_CASE("rotation view: every cached key pair turned by position x theta^(-2j/d) from its unrotated self", "[llama]") {
  const LessonRun run = run_to_end("same_word_rope");
  const ModelConfig& c = demo_llama().model->config();
  const StepTrace& t = run.history().back();
  const int d = c.d_head();
  const double pi = std::acos(-1.0);
  int pairs_checked = 0;
  for (int layer = 0; layer < c.n_layer; ++layer)
    for (int g = 0; g < c.kv_heads(); ++g)
      for (int p = 0; p < t.position_end; ++p) {
        const RotaryRow row = rotary_row(c, t, layer, g, p);
        REQUIRE(row.found);  // the uncached mode computed every position
        REQUIRE(int(row.pairs.size()) == d / 2);
        for (int j = 0; j < d / 2; ++j) {
          const RotaryPair& pair = row.pairs[std::size_t(j)];
          const double before = std::hypot(pair.before_x, pair.before_y), after = std::hypot(pair.after_x, pair.after_y);
          CHECK(after == Approx(before).margin(1e-5));  // a rotation keeps the length
          if (before < 1e-2) continue;  // too short to read an angle from float values
          const double angle = p * std::pow(double(c.rope_theta), -2.0 * j / d);
          double off = std::remainder(pair.turned - angle, 2 * pi);
          CHECK(std::abs(off) < 2e-3);
          CHECK(std::abs(std::remainder(pair.expected - angle, 2 * pi)) < 1e-9);
          ++pairs_checked;
        }
      }
  CHECK(pairs_checked > c.n_layer * c.kv_heads() * t.position_end * d / 4);
  // Not a rotary model: no rotation to show.
  const LoadedModel gpt = load_preset("demo");
  CHECK_FALSE(rotary_row(gpt.model->config(), t, 0, 0, 0).found);
}
