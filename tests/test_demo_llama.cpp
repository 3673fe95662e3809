// The built-in demo-llama: what the lessons need from it, what info reports, and that the documented
// command retrains it to the same bytes.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "hf_gpt2_folder.h"
#include "test_helpers.h"

namespace {
std::string generated_text(const std::string& prompt, int new_tokens) {
  const test::CliResult r = test::run_cli("generate --preset demo-llama --prompt '" + prompt + "' --max-new-tokens " +
                                          std::to_string(new_tokens) + " --json");
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out)["text"].get<std::string>();
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("demo-llama: greedy decoding gives the lessons' sentences, and any text is accepted", "[demo_llama][cli]") {
  CHECK(generated_text("Time", 2) == "Time flies fast");
  const std::string duck = generated_text("He had to duck when the", 1);
  CHECK(duck == "He had to duck when the duck");
  // Words the corpus never had: byte-level BPE splits them into pieces, bytes as the last resort.
  const test::CliResult r = test::run_cli("generate --preset demo-llama --prompt 'Zyxw quietly ✓' --max-new-tokens 1 --json");
  REQUIRE(r.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  CHECK(doc["text"].get<std::string>().rfind("Zyxw quietly ✓", 0) == 0);
  CHECK(doc["steps"][0]["input_ids"].size() >= 5);  // more pieces than words
}

TEST_CASE("demo-llama: info reports rotary positions and shared KV heads", "[demo_llama][cli]") {
  const test::CliResult r = test::run_cli("info --preset demo-llama --json");
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["positions"] == "rope");
  CHECK(j["n_kv_head"].get<int>() < j["n_head"].get<int>());
  CHECK(j["cache_bytes_per_token"].get<long long>() ==
        2LL * j["n_layer"].get<int>() * j["n_kv_head"].get<int>() * j["head_dim"].get<int>() * 4);
  const std::string folder = KVSCOPE_SOURCE_DIR "/examples/models/demo-llama";
  CHECK(file_bytes(folder + "/model.safetensors").size() < 2u * 1024 * 1024);
}

namespace {
// Runs scripts/SCRIPT into a temporary folder; true when it exits 0. Its files are then at `out`.
bool retrain(const char* script, test::TempDir& dir, const std::string& out) {
  const std::string command = std::string("bash " KVSCOPE_SOURCE_DIR "/scripts/") + script + " " KVSCOPE_CLI " " + out +
                              " >" + dir / "log" + " 2>&1";
  return std::system(command.c_str()) == 0;
}
}  // namespace

TEST_CASE("demo-llama: scripts/train-demo-llama.sh retrains the built-in model byte for byte", "[demo_llama][cli][slow]") {
  if (test::kSanitizedBuild) {
    WARN("not run in sanitizer builds: training takes minutes there");
    return;
  }
  test::TempDir dir("demo_llama_retrain");
  const std::string out = dir / "demo-llama";
  REQUIRE(retrain("train-demo-llama.sh", dir, out));
  const std::string folder = KVSCOPE_SOURCE_DIR "/examples/models/demo-llama";
  CHECK(file_bytes(out + "/tokenizer.json") == file_bytes(folder + "/tokenizer.json"));
  CHECK(file_bytes(out + "/model.safetensors") == file_bytes(folder + "/model.safetensors"));
}

TEST_CASE("demo-llama-draft: scripts/train-demo-llama-draft.sh retrains the built-in draft byte for byte", "[demo_llama][cli][slow]") {
  if (test::kSanitizedBuild) {
    WARN("not run in sanitizer builds: training takes minutes there");
    return;
  }
  test::TempDir dir("demo_llama_draft_retrain");
  const std::string out = dir / "demo-llama-draft";
  REQUIRE(retrain("train-demo-llama-draft.sh", dir, out));
  const std::string folder = KVSCOPE_SOURCE_DIR "/examples/models/demo-llama-draft";
  CHECK(file_bytes(out + "/model.safetensors") == file_bytes(folder + "/model.safetensors"));
  CHECK(file_bytes(out + "/config.json") == file_bytes(folder + "/config.json"));
  // The draft shares demo-llama's tokenizer: its ids mean the same tokens.
  CHECK(file_bytes(folder + "/tokenizer.json") == file_bytes(KVSCOPE_SOURCE_DIR "/examples/models/demo-llama/tokenizer.json"));
}
