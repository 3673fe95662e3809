// The built-in demo-mla: the sentence the lessons need, what info reports against the trace, that the
// documented command retrains it to the same bytes, and malformed kvscope_mla configs refused in one
// line naming the file and the field.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_exec.h"
#include "cli_runner.h"
#include "core/engine/kernels/error.h"
#include "core/formats/hf_config.h"
#include "core/formats/model_folder_writer.h"
#include "core/formats/model_source.h"
#include "hf_gpt2_folder.h"
#include "test_helpers.h"

namespace {
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
const std::string kFolder = KVSCOPE_SOURCE_DIR "/examples/models/demo-mla";
}  // namespace

TEST_CASE("demo-mla: greedy decoding says 'Time flies fast' with cached == uncached at every step", "[demo_mla][cli]") {
  const test::CliResult r = test::run_cli("generate --preset demo-mla --prompt Time --max-new-tokens 2 --json");
  REQUIRE(r.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  CHECK(doc["text"] == "Time flies fast");
  for (const nlohmann::json& step : doc["steps"]) CHECK(step["max_abs_logit_diff"].get<double>() < 1e-4);
}

TEST_CASE("demo-mla: info reports mla and bytes per token that are the trace's growth and at most half of MHA's", "[demo_mla][cli]") {
  const test::CliResult r = test::run_cli("info --preset demo-mla --json");
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["attention"] == "mla");
  const long long per_token = j["cache_bytes_per_token"].get<long long>();
  CHECK(per_token == j["n_layer"].get<long long>() * (j["kv_lora_rank"].get<long long>() + j["qk_rope_head_dim"].get<long long>()) * 4);
  CHECK(2 * per_token <= j["mha_cache_bytes_per_token"].get<long long>());
  CHECK(j["mha_cache_bytes_per_token"].get<long long>() == 2LL * j["n_layer"].get<int>() * j["n_head"].get<int>() * j["head_dim"].get<int>() * 4);
  // The engine's cache grows by exactly that much per step.
  const test::CliResult g = test::run_cli("generate --preset demo-mla --prompt 'Time flies' --max-new-tokens 4 --json");
  REQUIRE(g.status == 0);
  const nlohmann::json steps = nlohmann::json::parse(g.out)["steps"];
  REQUIRE(steps.size() == 4u);
  for (std::size_t s = 1; s < steps.size(); ++s)
    CHECK(steps[s]["cached"]["cache_bytes"].get<long long>() - steps[s - 1]["cached"]["cache_bytes"].get<long long>() == per_token);
  CHECK(file_bytes(kFolder + "/model.safetensors").size() < 2u * 1024 * 1024);
}

TEST_CASE("demo-mla: scripts/train-demo-mla.sh retrains the built-in model byte for byte", "[demo_mla][cli][slow]") {
  if (test::kSanitizedBuild) {
    WARN("not run in sanitizer builds: training takes minutes there");
    return;
  }
  test::TempDir dir("demo_mla_retrain");
  const std::string out = dir / "demo-mla";
  const std::string command = "bash " KVSCOPE_SOURCE_DIR "/scripts/train-demo-mla.sh " KVSCOPE_CLI " " + out + " >" +
                              dir / "log" + " 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(file_bytes(out + "/tokenizer.json") == file_bytes(kFolder + "/tokenizer.json"));
  CHECK(file_bytes(out + "/model.safetensors") == file_bytes(kFolder + "/model.safetensors"));
  CHECK(file_bytes(out + "/config.json") == file_bytes(kFolder + "/config.json"));
}

TEST_CASE("demo-mla: each malformed MLA field is one line naming the file and the field, status 1", "[demo_mla][model_folder][cli]") {
  using json = nlohmann::json;
  const json good = json::parse(file_bytes(kFolder + "/config.json"));
  struct Damage {
    const char* what;
    std::function<void(json&)> edit;
    const char* message;
  };
  const std::vector<Damage> damages = {
      {"kv_lora_rank missing", [](json& c) { c.erase("kv_lora_rank"); }, "missing field \"kv_lora_rank\""},
      {"kv_lora_rank 0", [](json& c) { c["kv_lora_rank"] = 0; }, "\"kv_lora_rank\" must be at least 1"},
      {"kv_lora_rank negative", [](json& c) { c["kv_lora_rank"] = -32; }, "\"kv_lora_rank\" is out of range"},
      {"kv_lora_rank a string", [](json& c) { c["kv_lora_rank"] = "32"; }, "\"kv_lora_rank\" must be an integer"},
      {"qk_rope_head_dim missing", [](json& c) { c.erase("qk_rope_head_dim"); }, "missing field \"qk_rope_head_dim\""},
      {"qk_rope_head_dim odd", [](json& c) { c["qk_rope_head_dim"] = 7; }, "qk_rope_head_dim must be even"},
      {"qk_rope_head_dim the whole head", [](json& c) { c["qk_rope_head_dim"] = 16; }, "qk_rope_head_dim must be even, at least 2 and below head_dim"},
      {"qk_rope_head_dim 0", [](json& c) { c["qk_rope_head_dim"] = 0; }, "qk_rope_head_dim must be even, at least 2"},
      {"qk_rope_head_dim a float", [](json& c) { c["qk_rope_head_dim"] = 8.5; }, "\"qk_rope_head_dim\" must be an integer"},
      {"shared KV heads", [](json& c) { c["num_key_value_heads"] = 2; }, "num_key_value_heads must equal the query heads"},
      {"attention bias", [](json& c) { c["attention_bias"] = true; }, "no attention biases"},
  };
  for (const Damage& d : damages) {
    INFO(d.what);
    json config = good;
    d.edit(config);
    try {
      kvscope::parse_hf_config(config.dump(), "damaged/config.json");
      FAIL("accepted");
    } catch (const kvscope::DataError& e) {
      const std::string m = e.what();
      CHECK_THAT(m, Catch::StartsWith("damaged/config.json: ") && Catch::Contains(d.message));
      CHECK(m.find('\n') == std::string::npos);
    }
  }
  // Through the CLI: a copy of demo-mla whose config is damaged.
  test::TempDir dir("mla_damaged");
  json config = good;
  config["qk_rope_head_dim"] = 5;
  test::write_text(dir / "config.json", config.dump());
  test::write_text(dir / "tokenizer.json", file_bytes(kFolder + "/tokenizer.json"));
  test::write_text(dir / "model.safetensors", file_bytes(kFolder + "/model.safetensors"));
  const test::ExecResult r = test::exec_cli({"generate", "--model", dir.path, "--prompt", "Time", "--max-new-tokens", "1"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains(dir / "config.json") && Catch::Contains("qk_rope_head_dim"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}
