// Malformed or unsupported tokenizer.json files: each is one DataError, one line, naming the file
// and the problem; none crashes or is half-read.
#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "hf_gpt2_folder.h"
#include "hf_tokenizer_json.h"

using nlohmann::json;

namespace {
struct BadFile {
  const char* name;
  std::function<std::string()> text;  // the file's content
  const char* problem;                 // part of the message after "PATH: "
};

std::string toy_with(const std::function<void(json&)>& edit) {
  json j = test::toy_tokenizer_json();
  edit(j);
  return j.dump();
}

json split_pre_tokenizer(const std::string& regex, const std::string& behavior = "Isolated") {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", behavior}, {"invert", false}},
            {{"type", "ByteLevel"}, {"use_regex", false}}}}};
}

const std::vector<BadFile>& bad_files() {
  static const std::vector<BadFile> files = {
      {"not JSON", [] { return std::string("{\"model\": "); }, "not valid JSON"},
      {"a JSON array", [] { return std::string("[1, 2]"); }, "not a JSON object"},
      {"no model", [] { return std::string(R"({"version": "1.0"})"); }, "\"model\" is missing or not an object"},
      {"Unigram", [] { return std::string(R"({"model": {"type": "Unigram", "vocab": [["a", -1.0]]}})"); },
       "tokenizer model \"Unigram\" is not supported (byte-level BPE only)"},
      {"WordPiece", [] { return toy_with([](json& j) { j["model"]["type"] = "WordPiece"; }); },
       "tokenizer model \"WordPiece\" is not supported (byte-level BPE only)"},
      {"WordLevel", [] { return toy_with([](json& j) { j["model"]["type"] = "WordLevel"; }); },
       "tokenizer model \"WordLevel\" is not supported (byte-level BPE only)"},
      {"no merges", [] { return toy_with([](json& j) { j["model"].erase("merges"); }); }, "model has no \"merges\""},
      {"merge of an unknown token", [] { return toy_with([](json& j) { j["model"]["merges"].push_back("h q"); }); },
       "merge 8 ('h q') needs token 'q', which is not in the vocabulary"},
      {"merge whose result is unknown", [] { return toy_with([](json& j) { j["model"]["merges"].push_back("d d"); }); },
       "needs token 'dd'"},
      {"merge that is not two tokens", [] { return toy_with([](json& j) { j["model"]["merges"].push_back("hel"); }); },
       "merge 8 is not two tokens separated by one space"},
      {"merge pair of three", [] { return toy_with([](json& j) { j["model"]["merges"] = {{"h", "e", "l"}}; }); },
       "merge 0 is neither"},
      {"bad Split regex", [] { return toy_with([](json& j) { j["pre_tokenizer"] = split_pre_tokenizer(R"((\p{L}+)"); }); },
       "does not compile at offset 7: missing closing parenthesis"},
      {"Split behavior Removed", [] { return toy_with([](json& j) { j["pre_tokenizer"] = split_pre_tokenizer("a", "Removed"); }); },
       "is not supported (\"Isolated\" only)"},
      {"no ByteLevel step", [] { return toy_with([](json& j) { j["pre_tokenizer"] = nullptr; }); },
       "pre_tokenizer has no ByteLevel step"},
      {"Metaspace pre-tokenizer", [] { return toy_with([](json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}}; }); },
       "pre_tokenizer \"Metaspace\" is not supported"},
      {"Lowercase normalizer", [] { return toy_with([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }); },
       "normalizer \"Lowercase\" is not supported (null, NFC or Replace {\"String\"} only)"},
      {"byte_fallback", [] { return toy_with([](json& j) { j["model"]["byte_fallback"] = true; }); }, "byte_fallback"},
      {"vocab id negative", [] { return toy_with([](json& j) { j["model"]["vocab"]["h"] = -1; }); },
       "vocabulary token 'h' has id -1, not a token id"},
      {"vocab id out of range", [] { return toy_with([](json& j) { j["model"]["vocab"]["h"] = 1 << 30; }); },
       "vocabulary token 'h' has id 1073741824, not a token id"},
      {"vocab id not a number", [] { return toy_with([](json& j) { j["model"]["vocab"]["h"] = "0"; }); }, "not a token id"},
      {"vocab id given twice", [] { return toy_with([](json& j) { j["model"]["vocab"]["e"] = 0; }); },
       "vocabulary id 0 is given to two tokens"},
      {"vocab spelling outside the byte alphabet", [] { return toy_with([](json& j) { j["model"]["vocab"]["a b"] = 40; }); },
       "vocabulary token 'a b' (id 40) has a character outside the byte-level alphabet"},
      {"added token without content", [] { return toy_with([](json& j) { j["added_tokens"].push_back({{"id", 30}}); }); },
       "an added token is not"},
      {"added token id out of range", [] { return toy_with([](json& j) { j["added_tokens"][0]["id"] = -5; }); },
       "added token '<x>' has id -5"},
      {"template naming no special token", [] {
         return toy_with([](json& j) {
           j["post_processor"] = {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}}, {"special_tokens", json::object()}};
         });
       }, "names no entry of special_tokens"},
      {"template token id outside the vocabulary", [] {  // found by fuzz_hf_tokenizer: the id reached encode
         return toy_with([](json& j) {
           j["post_processor"] = {{"type", "TemplateProcessing"},
                                  {"single", {{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}}}},
                                  {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {5000}}}}}}};
         });
       }, "post-processor token id 5000 is not a token of the vocabulary"},
      {"RobertaProcessing", [] { return toy_with([](json& j) { j["post_processor"] = {{"type", "RobertaProcessing"}}; }); },
       "post_processor \"RobertaProcessing\" is not supported"},
      {"field of the wrong type", [] { return toy_with([](json& j) { j["model"]["ignore_merges"] = "yes"; }); },
       "unexpected JSON type"},
  };
  return files;
}
}  // namespace

TEST_CASE("hf_tokenizer errors: each malformed tokenizer.json is one DataError naming the file", "[hf_tokenizer]") {
  test::TempDir dir("hf_errors");
  const std::string path = dir / "tokenizer.json";
  for (const BadFile& bad : bad_files()) {
    INFO(bad.name);
    test::write_text(path, bad.text());
    try {
      kvscope::HfTokenizer::from_file(path);
      FAIL("no error");
    } catch (const kvscope::DataError& e) {
      const std::string message = e.what();
      CHECK(message.rfind(path + ": ", 0) == 0);
      CHECK_THAT(message, Catch::Contains(bad.problem));
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("hf_tokenizer errors: a missing file and a broken tokenizer_config.json name their paths", "[hf_tokenizer]") {
  test::TempDir dir("hf_errors_files");
  CHECK_THROWS_WITH(kvscope::HfTokenizer::from_file(dir / "tokenizer.json"),
                    Catch::StartsWith(dir / "tokenizer.json") && Catch::Contains("cannot open"));
  test::write_text(dir / "tokenizer.json", test::toy_tokenizer_json().dump());
  test::write_text(dir / "tokenizer_config.json", "{oops");
  CHECK_THROWS_WITH(kvscope::HfTokenizer::from_file(dir / "tokenizer.json"),
                    dir / "tokenizer_config.json" + ": not a JSON object");
  test::write_text(dir / "tokenizer_config.json", R"({"add_bos_token": true, "bos_token": "<nope>"})");
  CHECK_THROWS_WITH(kvscope::HfTokenizer::from_file(dir / "tokenizer.json"),
                    dir / "tokenizer_config.json" + ": bos_token '<nope>' is not a token of tokenizer.json");
}
