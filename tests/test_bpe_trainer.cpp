// Byte-level BPE training (core/train/bpe_trainer.h) and kvscope-cli train-tokenizer: merges worked
// out by hand, round trips through the written tokenizer.json as HfTokenizer loads it, text the
// corpus never had, byte-identical reruns, arbitrary bytes in the corpus, one-line errors, and
// Hugging Face's tokenizers.js on the same file (skipped without the fetch_hf_tokenizers fixture;
// the name of that test case is listed in tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "core/engine/kernels/error.h"
#include "core/tokenizers/hf_tokenizer.h"
#include "core/train/bpe_trainer.h"

using namespace kvscope;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("kvscope_bpe_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

const std::string kDemoCorpus = std::string(KVSCOPE_SOURCE_DIR) + "/examples/corpus/demo_corpus.txt";

// The corpus lines the trainer reads: not blank, not a '#' comment.
std::vector<std::string> corpus_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const std::size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] != '#') lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Trains through the CLI into dir; returns the process result.
test::ExecResult train_cli(const std::string& corpus, int vocab_size, const std::string& dir,
                           std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"train-tokenizer", "--corpus", corpus, "--vocab-size", std::to_string(vocab_size), "--out", dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return test::exec_cli(args);
}

// Merges as "left right" strings, which Catch prints when a check fails.
std::vector<std::string> merge_list(const TrainedBpe& bpe) {
  std::vector<std::string> list;
  for (const auto& [left, right] : bpe.merges) list.push_back(left + " " + right);
  return list;
}

using Merges = std::vector<std::string>;

}  // namespace

// "aaab aaab ab" is cut by GPT-2's regex into "aaab", " aaab", " ab". Counting adjacent byte pairs:
//   a+a: 2 in each "aaab" = 4;  a+b: 3;  ' '+a: 2.                      -> merge 0: "a"+"a" (id 256)
// left to right, "aaab" becomes aa|a|b: aa+a: 2;  a+b: 3;  ' '+aa: 1;  ' '+a: 1  -> merge 1: "a"+"b" (257)
// then aa|ab: aa+ab: 2;  ' '+aa: 1;  ' '+ab: 1                             -> merge 2: "aa"+"ab" (258)
// then only ' '+aaab: 1 and ' '+ab: 1 are left: no pair occurs twice, so training stops at 259 tokens.
TEST_CASE("bpe_trainer: the merges of a corpus worked out by hand", "[bpe_trainer]") {
  const TrainedBpe bpe = train_bpe("aaab aaab ab\n", {1000, {}}, "tiny");
  CHECK(merge_list(bpe) == Merges{"a a", "a b", "aa ab"});
  CHECK(bpe.vocab_size() == 259);
  CHECK(bpe.corpus_words == 3);
  CHECK(bpe.corpus_tokens == 1 + 2 + 2);  // aaab | ' ' aaab | ' ' ab

  TempDir dir("hand");
  write_tokenizer_json(dir / "tokenizer.json", bpe);
  const json file = json::parse(test::slurp(dir / "tokenizer.json"));
  CHECK(file["model"]["type"] == "BPE");
  CHECK(file["model"]["merges"] == json::parse(R"([["a","a"],["a","b"],["aa","ab"]])"));
  CHECK(file["model"]["vocab"]["aaab"] == 258);
  CHECK(file["model"]["vocab"]["Ġ"] == 32);  // a space is byte 32, spelled as GPT-2's stand-in
  CHECK(file["model"]["vocab"].size() == 259);
  CHECK(file["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] ==
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  CHECK(file["pre_tokenizer"]["pretokenizers"][1]["use_regex"] == false);
  CHECK(file["decoder"]["type"] == "ByteLevel");

  const HfTokenizer tokenizer = HfTokenizer::from_file(dir / "tokenizer.json");
  CHECK(tokenizer.vocab_size() == 259);
  CHECK(tokenizer.encode("aaab aaab ab") == std::vector<int>{258, 32, 258, 32, 257});
  CHECK(tokenizer.encode("aaaa") == std::vector<int>{256, 256});
  CHECK(tokenizer.encode("ba") == std::vector<int>{98, 97});  // never merged: bytes
}

// Lines "ab", "ab", "cd", "cd": a+b and c+d both occur twice; the tie goes to the pair whose bytes
// sort first, "a"+"b", then "c"+"d", whatever the line order; then no pair is left. " ab ab cd" is
// " ab", " ab", " cd": ' '+a and a+b tie at 2 and ' ' (byte 32) sorts before 'a', so ' '+a comes
// first, then " a"+b. A special token takes id 0 and shifts every other id by one; the vocabulary
// size caps the merges.
TEST_CASE("bpe_trainer: ties, special tokens and the vocabulary size", "[bpe_trainer]") {
  CHECK(merge_list(train_bpe("ab\nab\ncd\ncd\n", {1000, {}}, "ties")) == Merges{"a b", "c d"});
  CHECK(merge_list(train_bpe("cd\ncd\nab\nab\n", {1000, {}}, "ties")) == Merges{"a b", "c d"});
  CHECK(merge_list(train_bpe(" ab ab cd\n", {1000, {}}, "space")) == Merges{"  a", " a b"});
  CHECK(merge_list(train_bpe("aaab aaab ab\n", {257, {}}, "capped")) == Merges{"a a"});
  CHECK(train_bpe("aaab aaab ab\n", {256, {}}, "no merges").merges.empty());

  // The special token is cut out of the corpus before counting, so "<|eot|>" twice adds no pair.
  const TrainedBpe bpe = train_bpe("ab<|eot|>ab<|eot|>\n# a comment ab ab ab\n\n", {1000, {"<|eot|>"}}, "special");
  CHECK(merge_list(bpe) == Merges{"a b"});
  CHECK(bpe.corpus_tokens == 4);
  TempDir dir("special");
  write_tokenizer_json(dir / "tokenizer.json", bpe);
  const HfTokenizer tokenizer = HfTokenizer::from_file(dir / "tokenizer.json");
  CHECK(tokenizer.vocab_size() == 258);
  CHECK(tokenizer.encode("ab<|eot|>a") == std::vector<int>{257, 0, 1 + 'a'});
  CHECK(tokenizer.token_text(0) == "<|eot|>");
  const json file = json::parse(test::slurp(dir / "tokenizer.json"));
  CHECK(file["added_tokens"][0]["content"] == "<|eot|>");
  CHECK(file["added_tokens"][0]["special"] == true);
}

TEST_CASE("bpe_trainer: every demo corpus sentence round-trips through the written tokenizer.json", "[bpe_trainer]") {
  const std::string text = test::slurp(kDemoCorpus);
  REQUIRE(text.find("\xe2\x9c") == std::string::npos);  // no U+2700.. dingbat, so '✓' is unseen
  TempDir dir("demo");
  const test::ExecResult r = train_cli(kDemoCorpus, 512, dir / "tok", {"--special", "<|endoftext|>"});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  const HfTokenizer tokenizer = HfTokenizer::from_file(dir / "tok/tokenizer.json");
  CHECK(tokenizer.vocab_size() == 512);
  long long tokens = 0;
  const std::vector<std::string> lines = corpus_lines(text);
  REQUIRE(lines.size() > 100);
  for (const std::string& line : lines) {
    INFO(line);
    const std::vector<int> ids = tokenizer.encode(line);
    CHECK(tokenizer.decode(ids) == line);
    tokens += (long long)ids.size();
  }
  // The training's own count of the corpus tokens agrees with encoding it through the file.
  CHECK(r.out.find("-> " + std::to_string(tokens) + " tokens") != std::string::npos);
  CHECK(double(tokens) < 0.5 * double(text.size()));  // merges learned: far fewer tokens than bytes

  const std::string unseen = "Zyxw 123 \xe2\x9c\x93";  // "Zyxw 123 ✓"
  const std::vector<int> ids = tokenizer.encode(unseen);
  CHECK(tokenizer.decode(ids) == unseen);
  REQUIRE(ids.size() >= 3);
  CHECK(ids[ids.size() - 2] == 1 + 0x9c);  // '✓' = E2 9C 93: its last two bytes were never merged
  CHECK(ids[ids.size() - 1] == 1 + 0x93);
  for (int id : ids) CHECK((id > 0 && id < 512));
  std::vector<int> with_special = {0};
  for (int id : tokenizer.encode("The")) with_special.push_back(id);
  CHECK(tokenizer.encode("<|endoftext|>The") == with_special);
}

TEST_CASE("bpe_trainer: the same corpus and size give a byte-identical file", "[bpe_trainer]") {
  TempDir dir("determinism");
  REQUIRE(train_cli(kDemoCorpus, 600, dir / "a").status == 0);
  REQUIRE(train_cli(kDemoCorpus, 600, dir / "b").status == 0);
  REQUIRE(train_cli(kDemoCorpus, 300, dir / "c").status == 0);
  const std::string a = test::slurp(dir / "a/tokenizer.json");
  CHECK(a.size() > 10000);
  CHECK(a == test::slurp(dir / "b/tokenizer.json"));
  // A smaller vocabulary is the larger one's first merges (ranks never depend on the size asked for).
  const json big = json::parse(a), small = json::parse(test::slurp(dir / "c/tokenizer.json"));
  REQUIRE(big["model"]["merges"].size() == 600 - 256);
  REQUIRE(small["model"]["merges"].size() == 300 - 256);
  for (std::size_t i = 0; i < small["model"]["merges"].size(); ++i)
    CHECK(small["model"]["merges"][i] == big["model"]["merges"][i]);
}

// Training reads bytes: NULs, stray continuation bytes, overlong forms, surrogates and cut-off
// characters train without a crash (a byte that starts no character is a piece by itself). The
// valid lines round-trip; the invalid ones are refused by encode, as tokenizer.json tokenizers do.
TEST_CASE("bpe_trainer: any bytes in the corpus train without crashing", "[bpe_trainer]") {
  const std::vector<std::string> valid = {std::string("nul\0nul\0 nul\0", 13), "caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9\r"};
  const std::vector<std::string> invalid = {"\xff\xfe\xff\xfe", "ab\x80\x80 ab\x80\x80", "\xc0\xaf\xc0\xaf",
                                            "\xed\xa0\x80\xed\xa0\x80", "x\xf0\x9f x\xf0\x9f", "\xe2\x9c"};
  std::string corpus;
  for (int repeat = 0; repeat < 3; ++repeat)
    for (const auto* group : {&valid, &invalid})
      for (const std::string& line : *group) corpus += line + "\n";
  TempDir dir("bytes");
  write_file(dir / "corpus.txt", corpus);
  const test::ExecResult r = train_cli(dir / "corpus.txt", 400, dir / "tok");
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  const HfTokenizer tokenizer = HfTokenizer::from_file(dir / "tok/tokenizer.json");
  CHECK(tokenizer.vocab_size() > 256);  // some merges were found ("nu", "caf", ...)
  for (std::string line : valid) {
    if (line.back() == '\r') line.pop_back();  // a CRLF line ending is not text
    CHECK(tokenizer.decode(tokenizer.encode(line)) == line);
  }
  CHECK(tokenizer.encode(std::string("\0", 1)) == std::vector<int>{0});
  for (int b = 0; b < 256; ++b) CHECK(tokenizer.decode({b}) == std::string(1, char(b)));
  CHECK_THROWS_AS(tokenizer.encode(invalid[0]), DataError);
}

TEST_CASE("bpe_trainer: the file is replaced whole or not at all", "[bpe_trainer]") {
  TempDir dir("atomic");
  const TrainedBpe bpe = train_bpe("aaab aaab ab\n", {1000, {}}, "tiny");
  CHECK_THROWS_WITH(write_tokenizer_json(dir / "missing/tokenizer.json", bpe),
                    Catch::Contains("missing/tokenizer.json: cannot write"));
  fs::create_directories(dir / "a_folder");
  CHECK_THROWS_AS(write_tokenizer_json(dir / "a_folder", bpe), DataError);  // rename onto a folder fails
  write_file(dir / "tokenizer.json", "old");
  write_tokenizer_json(dir / "tokenizer.json", bpe);
  CHECK(test::slurp(dir / "tokenizer.json") == tokenizer_json(bpe));
  // a_folder and tokenizer.json: no temporary file left behind
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
}

TEST_CASE("bpe_trainer: bad arguments and bad data give one-line errors", "[bpe_trainer][cli]") {
  TempDir dir("errors");
  const std::string corpus = dir / "corpus.txt";
  write_file(corpus, "the cat sat on the mat\nthe dog sat on the log\n");
  write_file(dir / "empty.txt", "# only a comment\n\n   \n");
  write_file(dir / "a_file", "x");
  fs::create_directories(dir / "busy");
  write_file(dir / "busy/notes.txt", "keep me");
  fs::create_directories(dir / "done");
  write_file(dir / "done/tokenizer.json", "old");
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--corpus", dir / "nope.txt", "--vocab-size", "300", "--out", dir / "o1"}, 1, "nope.txt: cannot open the corpus file"},
      {{"--corpus", dir / "empty.txt", "--vocab-size", "300", "--out", dir / "o2"}, 1, "empty.txt: the corpus has no text"},
      {{"--corpus", dir.path.string(), "--vocab-size", "300", "--out", dir / "o3"}, 1, "cannot open the corpus file"},
      {{"--corpus", corpus, "--vocab-size", "255", "--out", dir / "o4"}, 2, "vocab size 255 is below 256"},
      {{"--corpus", corpus, "--vocab-size", "256", "--out", dir / "o5", "--special", "<|endoftext|>"}, 2, "is below 257"},
      {{"--corpus", corpus, "--vocab-size", "abc", "--out", dir / "o6"}, 2, "--vocab-size"},
      {{"--corpus", corpus, "--vocab-size", "300", "--out", dir / "o7", "--special", "<a b>"}, 2, "special token '<a b>'"},
      {{"--corpus", corpus, "--vocab-size", "300", "--out", dir / "a_file"}, 2, "exists and is not a folder"},
      {{"--corpus", corpus, "--vocab-size", "300", "--out", dir / "a_file/sub"}, 2, "is not a folder, so"},
      {{"--corpus", corpus, "--vocab-size", "300", "--out", dir / "busy"}, 2, "already holds files"},
      {{"--corpus", corpus, "--vocab-size", "300", "--out", dir / "done"}, 2, "tokenizer.json already exists"},
      {{"--corpus", corpus, "--vocab-size", "300", "--out", "/proc/kvscope_bpe_out"}, 1, "cannot create the folder"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"train-tokenizer"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const test::ExecResult r = test::exec_cli(args);
    INFO("args: " << json(c.args).dump() << "\nstderr: " << r.err);
    CHECK(r.status == c.status);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.err.rfind("kvscope-cli: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
  for (const char* never : {"o1", "o2", "o3", "o4", "o5", "o6", "o7"}) CHECK_FALSE(fs::exists(dir / never));
  CHECK(test::slurp(dir / "done/tokenizer.json") == "old");
  CHECK(test::slurp(dir / "a_file") == "x");

  // --overwrite writes tokenizer.json and leaves the folder's other files alone.
  REQUIRE(train_cli(corpus, 260, dir / "busy", {"--overwrite"}).status == 0);
  CHECK(test::slurp(dir / "busy/notes.txt") == "keep me");
  CHECK(HfTokenizer::from_file(dir / "busy/tokenizer.json").vocab_size() == 260);
  REQUIRE(train_cli(corpus, 260, dir / "done", {"--overwrite"}).status == 0);
  CHECK(test::slurp(dir / "done/tokenizer.json") == test::slurp(dir / "busy/tokenizer.json"));
}

// @huggingface/tokenizers (installed into the build tree by the fetch_hf_tokenizers fixture) loads
// the trained file and gives the same ids as HfTokenizer for tests/data/hf_tokenizer_strings.json:
// digits, contractions, CJK, emoji, whitespace runs, code, special tokens in the text.
TEST_CASE("bpe_trainer reference: tokenizers.js reads the trained tokenizer.json and gives the same ids", "[bpe_trainer][hf-reference]") {
  const std::string node_modules = std::string(KVSCOPE_TEST_DATA) + "/hf/node/node_modules";
  if (!fs::exists(node_modules + "/@huggingface/tokenizers/package.json") || std::system("node --version >/dev/null 2>&1") != 0) {
    WARN("skipped: node or " << node_modules << "/@huggingface/tokenizers is absent (run `ctest -R fetch_hf_tokenizers`)");
    return;
  }
  TempDir dir("reference");
  REQUIRE(train_cli(kDemoCorpus, 700, dir / "tok", {"--special", "<|endoftext|>", "--special", "<|im_start|>"}).status == 0);
  write_file(dir / "tok/tokenizer_config.json", "{}\n");  // the script reads one; an empty config changes nothing
  const std::string strings = std::string(KVSCOPE_SOURCE_DIR) + "/tests/data/hf_tokenizer_strings.json";
  const std::string command = "node '" + std::string(KVSCOPE_SOURCE_DIR) + "/scripts/hf-reference-ids.js' '" +
                              node_modules + "' '" + dir / "tok" + "' '" + strings + "' > '" + dir / "expected.json" + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  const json expected = json::parse(test::slurp(dir / "expected.json"));
  const HfTokenizer tokenizer = HfTokenizer::from_file(dir / "tok/tokenizer.json");
  REQUIRE(expected.size() > 20);
  for (const json& row : expected) {
    const std::string text = row["text"].get<std::string>();
    INFO(json(text).dump());
    const std::vector<int> ids = tokenizer.encode(text);
    CHECK(ids == row["ids"].get<std::vector<int>>());
    CHECK(ids == row["ids_special"].get<std::vector<int>>());  // no post-processor: nothing added
    CHECK(tokenizer.decode(ids) == text);
  }
}
