// HfTokenizer on hand-made tokenizer.json files: the toy BPE gives the same ids as BpeTokenizer,
// added tokens are found longest first, Split regexes and ignore_merges come from the file, NFC,
// BOS from the post-processor or tokenizer_config.json, and `kvscope-cli tokenize --tokenizer`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "core/engine/kernels/error.h"
#include "core/tokenizers/bpe_tokenizer.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "core/tokenizers/regex_splitter.h"
#include "hf_gpt2_folder.h"
#include "hf_tokenizer_json.h"

using nlohmann::json;
using kvscope::HfTokenizer;

namespace {
HfTokenizer load(const test::TempDir& dir, const json& tokenizer) {
  test::write_text(dir / "tokenizer.json", tokenizer.dump());
  return HfTokenizer::from_file(dir / "tokenizer.json");
}

// A vocabulary of the 256 single bytes (id = byte) plus what the merges make, in rank order.
json byte_vocab_json(const std::vector<std::string>& merges) {
  json j = test::toy_tokenizer_json();
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[kvscope::byte_stand_in(static_cast<unsigned char>(b))] = b;
  json pairs = json::array();
  for (const std::string& m : merges) {
    const std::string left = m.substr(0, m.find(' ')), right = m.substr(m.find(' ') + 1);
    pairs.push_back({left, right});
    const int id = int(vocab.size());
    vocab[left + right] = id;
  }
  j["model"]["vocab"] = vocab;
  j["model"]["merges"] = pairs;
  j["added_tokens"] = json::array();
  return j;
}
}  // namespace

TEST_CASE("hf_tokenizer: the toy BPE as tokenizer.json gives BpeTokenizer's ids", "[hf_tokenizer]") {
  test::TempDir dir("hf_toy");
  test::write_text(dir / "vocab.json", test::toy_vocab_json());
  test::write_text(dir / "merges.txt", test::toy_merges_txt());
  const kvscope::BpeTokenizer bpe = kvscope::BpeTokenizer::from_files(dir / "vocab.json", dir / "merges.txt");
  json j = test::toy_tokenizer_json();
  const HfTokenizer tok = load(dir, j);
  CHECK(tok.encode("hello world") == std::vector<int>{11, 14, 2, 7});
  for (const char* text : {"hello world", "hello  world!", "'s hello\t\n", "héllo", "", " "}) {
    INFO(json(text).dump());
    CHECK(tok.encode(text) == bpe.encode(text));
    CHECK(tok.decode(tok.encode(text)) == text);
  }
  // Merges as ["a", "b"] pairs (Qwen's layout) read the same as "a b" strings (GPT-2's, Llama 3's).
  json pairs = json::array();
  for (const json& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  j["model"]["merges"] = pairs;
  CHECK(load(dir, j).encode("hello world") == std::vector<int>{11, 14, 2, 7});
  CHECK(tok.vocab_size() == 27);
  CHECK(tok.token_text(14) == " wor");
  CHECK(tok.token_text(99) == "<99>");
  CHECK_THROWS_WITH(tok.encode("bad \xff"), Catch::Contains("not valid UTF-8 at byte 4"));
}

TEST_CASE("hf_tokenizer: added tokens are matched in the raw text, longest first, and decode as themselves", "[hf_tokenizer]") {
  test::TempDir dir("hf_added");
  const HfTokenizer tok = load(dir, test::toy_tokenizer_json());
  CHECK(tok.encode("hello<x>hello") == std::vector<int>{11, 25, 11});
  CHECK(tok.encode("<x><y>") == std::vector<int>{26});  // not <x> followed by "<y>"
  CHECK(tok.encode("<x><x>") == std::vector<int>{25, 25});
  CHECK(tok.encode(" <x>") == std::vector<int>{4, 25});
  CHECK(tok.decode({11, 26, 4, 25}) == "hello<x><y> <x>");
  CHECK(tok.token_text(26) == "<x><y>");
  CHECK_FALSE(tok.adds_bos());
  CHECK(tok.encode_with_special("hello") == std::vector<int>{11});
}

TEST_CASE("hf_tokenizer: the Split regex is read from the file and run by PCRE2", "[hf_tokenizer]") {
  CHECK(kvscope::RegexSplitter(R"( ?\w+)").split("a bc!") == std::vector<std::string>{"a", " bc", "!"});
  CHECK(kvscope::RegexSplitter(R"(\p{N}{1,3})").split("x12345") == std::vector<std::string>{"x", "123", "45"});
  CHECK(kvscope::RegexSplitter(R"(\d*)").split("ab1") == std::vector<std::string>{"ab", "1"});  // empty matches cut nothing
  test::TempDir dir("hf_split");
  // "3 4" merges before "1 2": one piece "12345" -> 12|34|5; cut into 123|45 by Llama 3's \p{N}{1,3}.
  json j = byte_vocab_json({"3 4", "1 2"});
  const int id_34 = 256, id_12 = 257;
  CHECK(load(dir, j).encode("12345") == std::vector<int>{id_12, id_34, '5'});
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"}, {"pattern", {{"Regex", R"(\p{N}{1,3})"}}}, {"behavior", "Isolated"}, {"invert", false}},
                          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  const HfTokenizer split = load(dir, j);
  CHECK(split.encode("12345") == std::vector<int>{id_12, '3', '4', '5'});
  CHECK(split.encode("a12345b") == std::vector<int>{'a', id_12, '3', '4', '5', 'b'});  // text between matches kept
  CHECK(split.decode(split.encode("a12345b")) == "a12345b");
}

TEST_CASE("hf_tokenizer: ignore_merges emits a piece that is in the vocabulary whole", "[hf_tokenizer]") {
  test::TempDir dir("hf_ignore");
  json j = test::toy_tokenizer_json();
  j["model"]["vocab"]["wd"] = 27;  // no merge makes "wd"
  CHECK(load(dir, j).encode("wd") == std::vector<int>{5, 7});
  j["model"]["ignore_merges"] = true;
  CHECK(load(dir, j).encode("wd") == std::vector<int>{27});
  CHECK(load(dir, j).encode("hello wd") == std::vector<int>{11, 12, 7});  // "Ġwd" is no token: merged as before
}

TEST_CASE("hf_tokenizer: an NFC normalizer composes accents before splitting", "[hf_tokenizer]") {
  test::TempDir dir("hf_nfc");
  json j = byte_vocab_json({"Ã ©"});  // "é" = C3 A9 -> one token, 256
  const std::string decomposed = "e\xcc\x81", composed = "\xc3\xa9";
  CHECK(load(dir, j).encode(decomposed) == std::vector<int>{'e', 0xcc, 0x81});
  j["normalizer"] = {{"type", "NFC"}};
  const HfTokenizer tok = load(dir, j);
  CHECK(tok.encode(decomposed) == std::vector<int>{256});
  CHECK(tok.encode(composed) == std::vector<int>{256});
  CHECK(tok.decode(tok.encode(decomposed)) == composed);
  CHECK(tok.token_text(256) == composed);
  CHECK(tok.token_text(0xc3) == "<0xC3>");  // half a character
}

TEST_CASE("hf_tokenizer: BOS from the post-processor's template or from tokenizer_config.json", "[hf_tokenizer]") {
  test::TempDir dir("hf_bos");
  json j = test::toy_tokenizer_json();
  j["added_tokens"].push_back({{"id", 27}, {"content", "<s>"}, {"special", true}});
  j["added_tokens"].push_back({{"id", 28}, {"content", "</s>"}, {"special", true}});
  j["post_processor"] = json::parse(R"({"type": "Sequence", "processors": [
      {"type": "ByteLevel"},
      {"type": "TemplateProcessing",
       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
       "special_tokens": {"<s>": {"id": "<s>", "ids": [27], "tokens": ["<s>"]}}}]})");
  HfTokenizer tok = load(dir, j);
  CHECK(tok.bos_id() == 27);
  CHECK(tok.encode("hello") == std::vector<int>{11});  // nothing added unless asked
  CHECK(tok.encode_with_special("hello") == std::vector<int>{27, 11});
  CHECK(tok.encode_with_special("<s>hello") == std::vector<int>{27, 27, 11});
  CHECK(tok.encode_prompt("hello") == std::vector<int>{27, 11});  // a prompt starts as in training

  j["post_processor"] = nullptr;
  test::write_text(dir / "tokenizer_config.json", R"({"add_bos_token": true, "bos_token": {"content": "<s>"}})");
  tok = load(dir, j);
  CHECK(tok.bos_id() == 27);
  CHECK(tok.encode_with_special("hello") == std::vector<int>{27, 11});
  test::write_text(dir / "tokenizer_config.json", R"({"add_bos_token": false, "bos_token": "<s>"})");
  CHECK_FALSE(load(dir, j).adds_bos());
  CHECK(load(dir, j).encode_prompt("hello") == std::vector<int>{11});
}

TEST_CASE("hf_tokenizer: kvscope-cli tokenize --tokenizer, --add-special, and --model with tokenizer.json", "[hf_tokenizer][cli]") {
  test::TempDir dir("hf_cli");
  json j = test::toy_tokenizer_json();
  j["added_tokens"].push_back({{"id", 27}, {"content", "<s>"}, {"special", true}});
  test::write_text(dir / "tokenizer_config.json", R"({"add_bos_token": true, "bos_token": "<s>"})");
  test::write_text(dir / "tokenizer.json", j.dump());
  test::ExecResult r = test::exec_cli({"tokenize", "--tokenizer", dir / "tokenizer.json", "hello world"});
  CHECK(r.status == 0);
  CHECK(r.out == "11 14 2 7\n");
  r = test::exec_cli({"tokenize", "--tokenizer", dir / "tokenizer.json", "--json", "--add-special", "--", "hello world"});
  CHECK(r.status == 0);
  CHECK(json::parse(r.out) == json{{"ids", {27, 11, 14, 2, 7}}, {"tokens", {"<s>", "hello", " wor", "l", "d"}}});
  hf::Gpt2 shape;
  shape.vocab = 30, shape.context = 16, shape.d = 8, shape.n_head = 2, shape.n_layer = 1;
  test::write_text(dir / "config.json", test::gpt2_config_json(shape).dump());
  test::write_text(dir / "vocab.json", R"({"h": 0})");  // tokenizer.json wins over vocab.json + merges.txt
  test::write_text(dir / "merges.txt", "");
  r = test::exec_cli({"tokenize", "--model", dir.path, "hello<x><y>"});
  CHECK(r.out == "11 26\n");
  CHECK(test::exec_cli({"tokenize", "--tokenizer", dir / "tokenizer.json", "--vocab", dir / "vocab.json",
                        "--merges", dir / "merges.txt", "x"}).status == 2);
  CHECK(test::exec_cli({"tokenize", "--vocab", dir / "vocab.json", "--merges", dir / "merges.txt", "--add-special", "h"}).status == 2);
  test::write_text(dir / "bad.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  r = test::exec_cli({"tokenize", "--tokenizer", dir / "bad.json", "x"});
  CHECK(r.status == 1);
  CHECK(r.err == "kvscope-cli: " + (dir / "bad.json") + ": tokenizer model \"Unigram\" is not supported (byte-level BPE only)\n");
}

// A Gemma-3-like file (tests/data/gemma3_like_tokenizer.json): " " -> "▁", BPE over characters with
// <0xNN> byte tokens for the rest, merges by rank (lowest first, leftmost on a tie), "\n" an added token.
TEST_CASE("hf_tokenizer: byte_fallback BPE with the Replace normalizer (Gemma 3's kind)", "[hf_tokenizer]") {
  const std::string path = std::string(KVSCOPE_SOURCE_DIR) + "/tests/data/gemma3_like_tokenizer.json";
  const HfTokenizer t = HfTokenizer::from_file(path);
  const json vocab = json::parse(test::slurp(path))["model"]["vocab"];
  auto id = [&](const char* token) { return vocab.at(token).get<int>(); };
  // "ab ab" -> "ab▁ab": ▁+a (rank 0) first, then a+b (rank 1) on the left, then ▁a+b (rank 2).
  CHECK(t.encode("ab ab") == std::vector<int>{id("ab"), id("\xE2\x96\x81" "ab")});
  CHECK(t.encode("a b") == std::vector<int>{id("a"), id("\xE2\x96\x81"), id("b")});  // no merge ▁+b
  CHECK(t.encode("c\xC3\xA9") == std::vector<int>{id("c"), id("<0xC3>"), id("<0xA9>")});  // é: its two bytes
  CHECK(t.encode("a\nb") == std::vector<int>{id("a"), id("\n"), id("b")});
  CHECK(t.encode_with_special("ab") == std::vector<int>{2, id("ab")});
  CHECK(t.bos_id() == std::optional<int>(2));
  CHECK(t.decode(t.encode(" ab a\xC3\xA9\nc ")) == " ab a\xC3\xA9\nc ");
  CHECK(t.token_text(id("\xE2\x96\x81" "ab")) == " ab");
  CHECK(t.token_text(id("<0xC3>")) == "<0xC3>");  // half a character: shown in Llama's byte notation
  const test::ExecResult r = test::exec_cli({"tokenize", "--tokenizer", path, "--json", "--", "ab ab"});
  REQUIRE(r.status == 0);
  CHECK(json::parse(r.out)["ids"].get<std::vector<int>>() == t.encode("ab ab"));
}
