// The cache-policy lessons on demo-llama (attention_sinks, smaller_numbers, who_gets_evicted): each
// line's numbers are the traces' own, kept sets against closed forms, bytes against the formula, and
// bad "policy"/"compare" fields refused with the file named.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_exec.h"
#include "core/engine/kernels/error.h"
#include "core/lessons/cache_calculator.h"
#include "core/lessons/caption.h"
#include "core/lessons/lesson_run.h"
#include "lesson_helpers.h"

using namespace kvscope;

namespace {

const LoadedModel& demo_llama() {
  static const LoadedModel m = load_preset("demo-llama");
  return m;
}

LessonRun run_to_end(const std::string& name) { return test::run_lesson_to_end(name, demo_llama()); }

std::vector<int> closed_form(int sinks, int window, int end) {
  std::vector<int> kept;
  for (int p = 0; p < end; ++p)
    if (p < sinks || p >= end - window) kept.push_back(p);
  return kept;
}

std::vector<int> with_reason(const PolicyTrace& p, int layer, int kv_head, const std::string& word) {
  std::vector<int> out;
  for (int q : p.kept_at(layer, kv_head))
    if (p.reason_of(layer, kv_head, q) == word) out.push_back(q);
  return out;
}

}  // namespace

TEST_CASE("attention_sinks lesson: 4 sinks + 12 newest against the newest 16, same bytes, past the context", "[lesson_checks][policy][llama]") {
  const LessonRun run = run_to_end("attention_sinks");
  const std::vector<const std::vector<StepTrace>*> compared = run.compared_histories();
  REQUIRE(compared.size() == 1);
  for (int s = 0; s < run.steps_done(); ++s) {
    const StepTrace& t = run.history()[std::size_t(s)];
    const StepTrace& w = (*compared[0])[std::size_t(s)];
    INFO("step " << s);
    CHECK(w.context_ids == t.context_ids);  // the same teacher-forced tokens
    CHECK(t.cached.policy.kept_at(1, 1) == closed_form(4, 12, t.position_end));
    CHECK(w.cached.policy.kept_at(1, 1) == closed_form(0, 16, t.position_end));
    CHECK(t.cached.policy.cache_bytes == w.cached.policy.cache_bytes);
    const nlohmann::json& numbers = run.reports()[std::size_t(s)].numbers["policies"];
    REQUIRE(numbers.size() == 2);
    CHECK(numbers[0]["spec"] == "sinks:4,window:12");
    CHECK(numbers[0]["kl_from_full"].get<double>() == t.cached.policy.kl_from_full);
    CHECK(numbers[1]["spec"] == "window:16");
    CHECK(numbers[1]["kl_from_full"].get<double>() == w.cached.policy.kl_from_full);
    double mean = 0;
    for (int i = 0; i <= s; ++i) mean += run.history()[std::size_t(i)].cached.policy.kl_from_full;
    CHECK_THAT(numbers[0]["mean_kl_from_full"].get<double>(), Catch::Matchers::WithinRel(mean / (s + 1), 1e-12));
    CHECK_THAT(run.reports()[std::size_t(s)].lines[0], Catch::StartsWith("sinks:4,window:12: KL(full"));
  }
  CHECK(run.history().back().position_end > demo_llama().model->config().context_length);
  CHECK_THAT(make_caption(run.history().back()).policy,
             Catch::Contains("carry the rotation of their original positions (0\xE2\x80\x93" "3, 54\xE2\x80\x93" "65); the next query "
                             "sits at its true position 66"));
}

TEST_CASE("smaller_numbers lesson: 8 bits hold 28.1% and 4 bits 15.6% of the float32 bytes at 64 positions", "[lesson_checks][policy][llama]") {
  const LessonRun run = run_to_end("smaller_numbers");
  const StepTrace& last = run.history().back();
  REQUIRE(last.position_end == 64);
  const nlohmann::json& numbers = run.reports().back().numbers["policies"];
  CHECK(numbers[0]["spec"] == "bits:8");
  CHECK(numbers[1]["spec"] == "bits:4");
  CHECK(numbers[0]["bytes_percent"].get<double>() == 28.125);  // (1 + 4/32 per channel) / 4, both K and V
  CHECK(numbers[1]["bytes_percent"].get<double>() == 15.625);
  // The step before: 31 key rows still wait in fp16, so 8 bits are above 30% there (said, not hidden).
  CHECK(run.reports()[run.reports().size() - 2].numbers["policies"][0]["bytes_percent"].get<double>() > 30.0);
  CHECK(numbers[1]["mean_kl_from_full"].get<double>() > numbers[0]["mean_kl_from_full"].get<double>());
  CHECK(numbers[1]["max_abs_k_error"].get<double>() > numbers[0]["max_abs_k_error"].get<double>());
}

TEST_CASE("who_gets_evicted lesson: heavy hitters differ by KV head, and the lines say which", "[lesson_checks][policy][llama]") {
  const LessonRun run = run_to_end("who_gets_evicted");
  bool differ = false;
  for (int s = 0; s < run.steps_done(); ++s) {
    const PolicyTrace& p = run.history()[std::size_t(s)].cached.policy;
    REQUIRE(p.per_head);
    for (int l = 0; l < 2; ++l)
      for (int g = 0; g < 2; ++g) {
        CHECK(p.kept_at(l, g).size() == 16);
        const std::vector<int> heavy = with_reason(p, l, g, "heavy"), recent = with_reason(p, l, g, "recent");
        CHECK(heavy.size() == 8);
        CHECK(recent.size() == 8);
        CHECK(recent.front() == run.history()[std::size_t(s)].position_end - 8);
        for (int q : heavy) CHECK(q < recent.front());
        // The note's claim: the first four positions are heavy hitters everywhere (the sinks, found by attention).
        CHECK(std::vector<int>(heavy.begin(), heavy.begin() + 4) == std::vector<int>{0, 1, 2, 3});
      }
    differ = differ || with_reason(p, 0, 0, "heavy") != with_reason(p, 0, 1, "heavy");
    const std::vector<std::string>& lines = run.reports()[std::size_t(s)].lines;
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[2], Catch::StartsWith("Kept in layer 0, by KV head (KV head 0: "));
    // As MHA, each of the 4 query heads would hold its KV head's 16 rows: 2 layers x 4 x 16 x 16 dims x K,V x 4 B.
    const ModelConfig& c = demo_llama().model->config();
    CHECK(cache_bytes_as_mha(c, run.history()[std::size_t(s)]) == 2LL * c.n_layer * c.n_head * 16 * c.d_head() * 4);
  }
  CHECK(differ);
}

TEST_CASE("lesson policy fields: bad specs and misplaced fields are refused naming the file", "[lesson][policy]") {
  const std::string base = R"("title": "t", "prompt": "Time", "continuation": "flies fast")";
  struct Bad {
    std::string body;
    const char* message;
  };
  const Bad bad[] = {
      {base + R"(, "policy": "window:0")", "x.json: \"policy\": 'window:0': the window must be at least 1"},
      {base + R"(, "policy": "bits:8", "compare": ["window:4"])", "\"compare\" belongs to cache_policy, precision and memory_wall lessons"},
      {base + R"(, "kind": "cache_policy")", "a cache_policy lesson needs a \"policy\""},
      {base + R"(, "kind": "cache_policy", "policy": "bits:8", "compare": ["bits:5"])", "\"compare\"[0]: 'bits:5'"},
      {base + R"(, "kind": "cache_policy", "policy": "bits:8", "compare": "bits:4")", "must be an array"},
  };
  for (const Bad& b : bad) {
    INFO(b.body);
    CHECK_THROWS_WITH(parse_lesson("{" + b.body + "}", "x.json"), Catch::Contains(b.message));
  }
  // Every policy must be fed the same tokens: "compare" needs the continuation to cover the steps.
  const Lesson short_one = parse_lesson("{" + base + R"(, "kind": "cache_policy", "policy": "bits:8", "compare": ["bits:4"],
      "steps": [{"note": "a"}, {"note": "b"}, {"note": "c"}, {"note": "d"}]})", "y.json");
  CHECK_THROWS_WITH(LessonRun(short_one, load_preset("demo")), Catch::Contains("\"compare\" needs a \"continuation\""));
}

TEST_CASE("lesson --kv-policy replaces the lesson's policy; a bad one is exit 2", "[lesson][policy][cli]") {
  const test::ExecResult r = test::exec_cli({"lesson", "time_flies_fast", "--kv-policy", "bits:8", "--json"});
  REQUIRE(r.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  CHECK(doc["lesson"]["policy"] == "bits:8");
  for (const nlohmann::json& step : doc["steps"]) CHECK(step["cached"]["policy"]["spec"] == "bits:8");
  const test::ExecResult bad = test::exec_cli({"lesson", "time_flies_fast", "--kv-policy", "sinks:3"});
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("kvscope-cli: --kv-policy: sinks need a window"));
}

TEST_CASE("a lossy policy's badge says which figures answer 'did the output change' and which is raw", "[lesson_checks][policy][llama]") {
  const LessonRun run = run_to_end("attention_sinks");
  int lossy = 0;
  for (const StepTrace& t : run.history()) {
    const Caption c = make_caption(t);
    if (!c.lossy || c.modes_agree) continue;
    ++lossy;
    INFO(c.badge);
    const PolicyTrace& p = t.cached.policy;
    CHECK_THAT(c.badge, Catch::Contains(p.top1_agrees ? "output top-1 same" : "output top-1 differs"));
    char kl[32];
    std::snprintf(kl, sizeof kl, "KL %.1e", p.kl_from_full);
    CHECK_THAT(c.badge, Catch::Contains(kl));
    CHECK_THAT(c.badge, Catch::Contains("raw max |\xCE\x94logit|"));
  }
  CHECK(lossy > 0);
}

TEST_CASE("a policy lesson's key step is where its compared policies' KL from full attention differs most", "[lesson_checks][policy][llama]") {
  for (const char* name : {"attention_sinks", "who_gets_evicted", "smaller_numbers"}) {
    INFO(name);
    const LessonRun run = run_to_end(name);
    const std::vector<const std::vector<StepTrace>*> compared = run.compared_histories();
    REQUIRE_FALSE(compared.empty());
    // The gap at each step, from the two runs' recorded KLs (each checked against an independent
    // reference in test_cache_policy.cpp).
    std::vector<double> gap;
    for (int s = 0; s < run.steps_done(); ++s) {
      double widest = 0.0;
      for (const std::vector<StepTrace>* other : compared)
        widest = std::max(widest, std::abs(run.history()[std::size_t(s)].cached.policy.kl_from_full -
                                           (*other)[std::size_t(s)].cached.policy.kl_from_full));
      gap.push_back(widest);
    }
    const int key = run.key_step();
    REQUIRE(key >= 0);
    REQUIRE(key < run.steps_done());
    for (int s = 0; s < run.steps_done(); ++s) CHECK(gap[std::size_t(key)] >= gap[std::size_t(s)]);
    CHECK(gap[std::size_t(key)] > 0.0);
    // The lesson file's own key step, where attention_sinks opened before, shows far less.
    if (std::string(name) == "attention_sinks") CHECK(gap[std::size_t(key)] > 100.0 * gap[std::size_t(run.lesson().key_step)]);
  }
}
