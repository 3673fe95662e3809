// kvscope-cli batch as a user runs it: the JSON document of the done-when case against
// single runs of generate, the table, and a table of malformed input.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli_runner.h"

using nlohmann::json;

namespace {
// A scratch prompts file named for this test process.
std::string write_prompts(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/kvscope_batch_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string kSystem = "You are a helpful tutor . Answer in one short sentence . Question : ";
const std::string kThree = kSystem + "what does the cache keep ? Answer :\n" + kSystem + "why is the cache fast ? Answer :\n" +
                           kSystem + "how does the cache grow ? Answer :\n";

std::string ids_text(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}
}  // namespace

TEST_CASE("batch --json: three prompts sharing a 14-token system prompt, block size 4", "[cli][batch]") {
  const std::string path = write_prompts("three.txt", kThree);
  const test::CliResult r = test::run_cli("batch --prompts " + path + " --max-new-tokens 6 --block-size 4 --json");
  REQUIRE(r.status == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["block_size"] == 4);
  REQUIRE(doc["sequences"].size() == 3);
  for (const json& s : doc["sequences"]) {
    const std::vector<int> prompt = s["prompt_ids"].get<std::vector<int>>();
    CHECK(prompt.size() == 22);
    // The single-sequence run of the same prompt, by generate (cached mode).
    const test::CliResult single = test::run_cli("generate --ids " + ids_text(prompt) + " --max-new-tokens 6 --mode cached --json");
    REQUIRE(single.status == 0);
    const json one = json::parse(single.out);
    CHECK(s["tokens"] == one["tokens"]);
    CHECK(s["text"] == one["text"]);
  }
  const json& steps = doc["steps"];
  REQUIRE(steps.size() == 7);  // 6 rounds of decoding, then the round that lets go of every block
  const json& tables = steps[0]["block_tables"];
  for (int k = 0; k < 3; ++k) {
    CHECK(tables[1][k] == tables[0][k]);
    CHECK(tables[2][k] == tables[0][k]);
    CHECK(steps[0]["ref_counts"][tables[0][k].get<int>()] == 3);
  }
  CHECK(steps[0]["blocks_shared"] == 3);
  // 22 + 5 positions each after round 5: ceil(27 / 4) = 7 blocks each, 3 of them the shared ones.
  CHECK(steps[5]["blocks_in_use"] == 3 + 3 * (7 - 3));
  CHECK(steps[5]["rows_used"] == 12 + 3 * (27 - 12));
  CHECK(steps[5]["rows_allocated"] == 4 * (3 + 3 * (7 - 3)));
  CHECK(steps[5]["rows_wasted"].get<int>() < 3 * 4);
  CHECK(steps[5]["rows_contiguous"] == 3 * 32);  // contiguous buffers at the demo's context length
  const json& last = steps[6];
  CHECK(last["blocks_in_use"] == 0);
  CHECK(last["blocks_free"] == doc["pool_blocks"]);
  for (const json& t : last["block_tables"]) CHECK(t.empty());
  int shares = 0;
  for (const json& e : steps[0]["events"]) shares += e["kind"] == "share";
  CHECK(shares == 6);  // sequences 1 and 2 take blocks 0..2 each
  std::remove(path.c_str());
}

TEST_CASE("batch: the table shows rounds, blocks and every sequence's text", "[cli][batch]") {
  const std::string path = write_prompts("table.txt", kThree);
  const test::CliResult r = test::run_cli("batch --prompts " + path + " --max-new-tokens 2 --block-size 4");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("in use") && Catch::Contains("sequence 2: You are a helpful tutor"));
  CHECK_THAT(r.out, Catch::Contains("s1 join(12 shared)"));
  const test::CliResult unshared = test::run_cli("batch --prompts " + path + " --max-new-tokens 2 --block-size 4 --no-prefix-sharing --json");
  REQUIRE(unshared.status == 0);
  CHECK(json::parse(unshared.out)["steps"][0]["blocks_shared"] == 0);
  CHECK(json::parse(unshared.out)["steps"][0]["blocks_in_use"] == 3 * 6);  // ceil(22 / 4) each
  std::remove(path.c_str());
}

TEST_CASE("batch: bad input is one line on stderr and status 1 (data) or 2 (usage)", "[cli][batch]") {
  const std::string good = write_prompts("good.txt", kThree);
  const std::string empty = write_prompts("empty.txt", "");
  const std::string blank = write_prompts("blank.txt", "\n  \n\t\n");
  const std::string nul = write_prompts("nul.txt", std::string("Time flies\n\0fast\n", 17));
  const std::string unknown = write_prompts("unknown.txt", "Time flies\nTme flies\n");
  const std::string longer = write_prompts("long.txt", "Time\n" + kSystem + kSystem + "\n");
  struct Bad {
    std::string args;
    int status;
    std::string message;
  };
  const Bad cases[] = {
      {"batch --prompts " + good + " --block-size 0", 2, "--block-size: must be a positive integer"},
      {"batch --prompts " + good + " --block-size -4", 2, "--block-size"},
      {"batch --prompts " + good + " --max-new-tokens 0", 2, "--max-new-tokens"},
      {"batch --prompts " + good + " --pool-blocks 0", 2, "--pool-blocks"},
      {"batch --prompts " + good + " --block-size 4 --pool-blocks 5", 2, "--pool-blocks 5: the block pool is full"},
      {"batch --prompts /nonexistent/prompts.txt", 1, "/nonexistent/prompts.txt: cannot open the prompts file"},
      {"batch --prompts /tmp", 1, "/tmp: cannot open the prompts file: it is a folder"},
      {"batch --prompts " + empty, 1, empty + ": no prompts"},
      {"batch --prompts " + blank, 1, blank + ": no prompts"},
      {"batch --prompts " + nul, 1, nul + " line 2: a NUL byte"},
      {"batch --prompts " + unknown, 1, unknown + " line 2: unknown word 'Tme'"},
      {"batch --prompts " + longer + " --max-new-tokens 8", 1, longer + " line 2: the context length is 32"},
      {"batch --prompts " + good + " --preset gpt3", 2, "unknown preset 'gpt3'"},
      {"batch", 2, "--prompts is required"},
  };
  for (const Bad& b : cases) {
    INFO(b.args);
    const test::CliResult r = test::run_cli(b.args);
    CHECK(r.status == b.status);
    CHECK_THAT(r.err, Catch::Contains(b.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
  for (const std::string& p : {good, empty, blank, nul, unknown, longer}) std::remove(p.c_str());
}
