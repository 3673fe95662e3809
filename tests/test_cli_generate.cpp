// kvscope-cli generate as a user runs it: the JSON document, the step table, and bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "test_helpers.h"

using nlohmann::json;

TEST_CASE("generate --json: 'Time' forced to 'flies fast' gives the three steps of the lesson", "[cli]") {
  const test::CliResult r = test::run_cli("generate --prompt Time --force 'flies fast' --json");
  REQUIRE(r.status == 0);
  const json doc = json::parse(r.out);
  const json& steps = doc["steps"];
  REQUIRE(steps.size() == 3);
  const std::vector<std::vector<int>> uncached = {{0}, {0, 1}, {0, 1, 2}};
  const std::vector<std::vector<int>> reused = {{}, {0}, {0, 1}};
  for (int s = 0; s < 3; ++s) {
    INFO("step " << s);
    CHECK(steps[s]["step"] == s);
    CHECK(steps[s]["position"] == s);
    for (const json& layer : steps[s]["uncached"]["layers"]) {
      CHECK(layer["computed_rows"].get<std::vector<int>>() == uncached[s]);
      CHECK(layer["reused_rows"].get<std::vector<int>>().empty());
    }
    for (const json& layer : steps[s]["cached"]["layers"]) {
      CHECK(layer["computed_rows"].get<std::vector<int>>() == std::vector<int>{s});
      CHECK(layer["reused_rows"].get<std::vector<int>>() == reused[s]);
    }
    CHECK(steps[s]["max_abs_logit_diff"].get<double>() < 1e-4);
  }
  CHECK(steps[0]["next_text"] == "flies");
  CHECK(steps[1]["next_text"] == "fast");
  CHECK(steps[0]["phase"] == "prefill");
  CHECK(steps[1]["phase"] == "decode");
  CHECK(doc["text"].get<std::string>().rfind("Time flies fast", 0) == 0);
  CHECK(doc["tokens"].size() == 4);
}

// 50 new tokens in release; 12 under the sanitizers, where each gpt2-small step is ~10x slower.
TEST_CASE("generate: gpt2-small shape, 4 prompt ids + 50 new tokens (12 sanitized), both modes agree", "[cli][slow]") {
  const int n = test::kSanitizedBuild ? 12 : 50;
  const test::CliResult r = test::run_cli("generate --preset gpt2-small --ids 15496,11,314,716 --max-new-tokens " +
                                          std::to_string(n) + " --json");
  REQUIRE(r.status == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["tokens"].size() == std::size_t(4 + n));
  REQUIRE(doc["steps"].size() == std::size_t(n));
  for (const json& step : doc["steps"]) CHECK(step["max_abs_logit_diff"].get<double>() < 1e-3);
  // The last step feeds position n + 2 and reads n + 3 keys per layer in both modes.
  const json& last = doc["steps"][n - 1];
  CHECK(last["position"] == n + 2);
  CHECK(last["cached"]["layers"][11]["computed_rows"].size() == 1);
  CHECK(last["uncached"]["layers"][11]["computed_rows"].size() == std::size_t(n + 3));
}

TEST_CASE("generate: a mode that was not run is absent", "[cli]") {
  const json cached = json::parse(test::run_cli("generate --prompt Time --max-new-tokens 2 --mode cached --json").out);
  CHECK(cached["steps"][0].contains("cached"));
  CHECK_FALSE(cached["steps"][0].contains("uncached"));
  CHECK_FALSE(cached["steps"][0].contains("max_abs_logit_diff"));
  const json logits = json::parse(test::run_cli("generate --prompt Time --max-new-tokens 1 --json --logits").out);
  CHECK(logits["steps"][0]["logits"].size() > 10);
}

TEST_CASE("generate: the table names both modes and the text", "[cli]") {
  const test::CliResult r = test::run_cli("generate --prompt Time --force 'flies fast'");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("prefill") && Catch::Contains("decode") && Catch::Contains("max|dlogit|"));
  CHECK_THAT(r.out, Catch::Contains("text: Time flies fast"));
}

TEST_CASE("generate: bad input is one line on stderr and status 1 (data) or 2 (usage)", "[cli]") {
  struct Bad {
    const char* args;
    int status;
    const char* message;
  };
  const Bad cases[] = {
      {"generate --prompt Tme", 1, "unknown word 'Tme'"},
      {"generate --ids 1,x", 2, "'x' is not a token id"},
      {"generate --ids 99999", 1, "outside the vocabulary"},
      {"generate --ids ,", 2, "no token ids"},
      {"generate --prompt ''", 1, "prompt is empty"},
      {"generate --prompt Time --max-new-tokens 40", 1, "context length is 32"},
      {"generate --prompt 'Time Time Time Time Time Time Time Time Time Time Time Time Time Time Time Time Time "
       "Time Time Time Time Time Time Time Time Time Time Time Time Time Time Time Time'", 1, "context length is 32"},
      {"generate --prompt Time --max-new-tokens 0", 2, "must be a positive integer"},
      {"generate --prompt Time --max-new-tokens -3", 2, "must be a positive integer"},
      {"generate --prompt Time --window 0", 2, "must be a positive integer"},
      {"generate --prompt Time --window 33", 2, "longer than the context length"},
      {"generate --prompt Time --mode sideways", 2, "--mode must be"},
      {"generate --prompt Time --temperature -1", 2, "--temperature"},
      {"generate --preset gpt3 --prompt Time", 2, "unknown preset 'gpt3'"},
      {"generate --preset gpt2-small --prompt hello", 2, "no vocabulary"},
      {"generate", 2, "--prompt or --ids"},
      {"generate --prompt Time --ids 1", 2, "excludes"},
      {"generate --prompt Time --frobnicate", 2, "frobnicate"},
      {"frobnicate", 2, "unknown subcommand 'frobnicate'"},
      {"", 2, "subcommand"},
  };
  for (const Bad& b : cases) {
    INFO(b.args);
    const test::CliResult r = test::run_cli(b.args);
    CHECK(r.status == b.status);
    CHECK_THAT(r.err, Catch::Contains(b.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("the built-in model (compiled in, no files needed) says 'Time flies fast' by itself", "[cli][demo]") {
  // Run from / so nothing on disk beside the working directory can stand in for the embedded model.
  const json time = json::parse(test::run_cli("generate --prompt Time --max-new-tokens 2 --json").out);
  CHECK(time["text"] == "Time flies fast");
  CHECK_FALSE(time["steps"][0]["forced"].get<bool>());
  const test::CliResult duck = test::run_cli("generate --prompt 'He had to duck when the' --max-new-tokens 1 --json");
  REQUIRE(duck.status == 0);
  CHECK(json::parse(duck.out)["text"] == "He had to duck when the duck");
}
