// GPT-2 byte-level BPE on a vocabulary small enough to work out by hand, GPT-2's regex split,
// and the tokenize command's handling of bad files and bad text.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "core/tokenizers/bpe_tokenizer.h"
#include "core/engine/kernels/error.h"
#include "core/tokenizers/gpt2_pretokenizer.h"
#include "hf_gpt2_folder.h"
#include "toy_bpe.h"

using kvscope::BpeTokenizer;
using Pieces = std::vector<std::string>;

namespace {
BpeTokenizer toy_tokenizer(const test::TempDir& dir) {
  test::write_text(dir / "vocab.json", test::toy_vocab_json());
  test::write_text(dir / "merges.txt", test::toy_merges_txt());
  return BpeTokenizer::from_files(dir / "vocab.json", dir / "merges.txt");
}
}  // namespace

TEST_CASE("GPT-2 pre-tokenizer: contractions, letters, numbers, other and whitespace runs", "[bpe]") {
  const kvscope::Gpt2Pretokenizer split;
  CHECK(split.split("Hello  world") == Pieces{"Hello", " ", " world"});
  CHECK(split.split("it's I'll we've they're I'm she'd don't") ==
        Pieces{"it", "'s", " I", "'ll", " we", "'ve", " they", "'re", " I", "'m", " she", "'d", " don", "'t"});
  CHECK(split.split("DON'T") == Pieces{"DON", "'", "T"});  // the contractions are lower case only
  CHECK(split.split("a\n\nb") == Pieces{"a", "\n", "\n", "b"});  // \s+(?!\S) leaves the last space to the word
  CHECK(split.split("\t\tx") == Pieces{"\t", "\t", "x"});
  CHECK(split.split("end   ") == Pieces{"end", "   "});
  CHECK(split.split("x=42.5") == Pieces{"x", "=", "42", ".", "5"});
  CHECK(split.split("café 日本語です") == Pieces{"café", " 日本語です"});  // \p{L} beyond ASCII
  CHECK(split.split("x² ½") == Pieces{"x", "²", " ½"});                     // \p{N} beyond ASCII digits
  CHECK(split.split(" 😀!") == Pieces{" 😀!"});
  CHECK(split.split("a\u00a0b") == Pieces{"a", "\u00a0", "b"});  // no-break space is \s, not the optional ' '
  CHECK(split.split("").empty());
}

TEST_CASE("GPT-2 pre-tokenizer: text that is not UTF-8 is refused with its byte offset", "[bpe]") {
  const kvscope::Gpt2Pretokenizer split;
  CHECK_THROWS_WITH(split.split("bad \xff byte"), Catch::Contains("not valid UTF-8 at byte 4"));
  CHECK_THROWS_WITH(split.split("cut \xe6\x97"), Catch::Contains("not valid UTF-8 at byte 4"));
  CHECK_THROWS_AS(split.split("\xc0\xaf overlong"), kvscope::DataError);
}

TEST_CASE("BPE: merges apply by rank, every occurrence, left to right", "[bpe]") {
  test::TempDir dir("bpe_toy");
  const BpeTokenizer bpe = toy_tokenizer(dir);
  CHECK(bpe.vocab_size() == 25);
  // h e l l o: "h e" (rank 0), "l l" (1), "ll o" (2), "he llo" (3).
  CHECK(bpe.encode("hello world") == std::vector<int>{11, 14, 2, 7});
  CHECK(bpe.merge_piece(" world") == Pieces{"Ġwor", "l", "d"});
  // "l l" (rank 1) beats "e l" (rank 7) although "e l" comes first in the word.
  CHECK(bpe.encode("ell") == std::vector<int>{1, 9});
  CHECK(bpe.encode("lll") == std::vector<int>{9, 2});
  CHECK(bpe.encode("it's") == std::vector<int>{24, 23, 17, 18});
  CHECK(bpe.encode("hello!") == std::vector<int>{11, 16});
  // "é" is the bytes C3 A9, whose stand-ins are "Ã" and "©".
  CHECK(bpe.encode("héllo") == std::vector<int>{0, 21, 22, 10});
  CHECK(bpe.encode("\t\n") == std::vector<int>{20, 19});
  CHECK_THROWS_WITH(bpe.encode("x"), Catch::Contains("no token 'x'"));
}

TEST_CASE("BPE: decode gives back the exact bytes, token_text keeps the leading space", "[bpe]") {
  test::TempDir dir("bpe_decode");
  const BpeTokenizer bpe = toy_tokenizer(dir);
  for (const std::string text : {"hello world", "héllo", "\t\n", "it's hello!"}) CHECK(bpe.decode(bpe.encode(text)) == text);
  CHECK(bpe.token_text(14) == " wor");
  CHECK(bpe.token_text(19) == "\n");
  CHECK(bpe.token_text(21) == "\xC3");  // half of "é": a byte, not a character
  CHECK(bpe.token_text(25) == "<25>");
  CHECK(bpe.decode({11, 12, 13, 2, 7}) == "hello world");
}

TEST_CASE("tokenize: ids on one line, ids and token texts with --json, text after --", "[bpe][cli]") {
  test::TempDir dir("bpe_cli");
  toy_tokenizer(dir);
  const std::vector<std::string> files = {"tokenize", "--vocab", dir / "vocab.json", "--merges", dir / "merges.txt"};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = files;
    args.insert(args.end(), extra.begin(), extra.end());
    return test::exec_cli(args);
  };
  test::ExecResult r = run({"hello world"});
  CHECK(r.status == 0);
  CHECK(r.out == "11 14 2 7\n");
  r = run({"--json", "--", "hello world"});
  CHECK(r.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  CHECK(doc["ids"] == nlohmann::json::array({11, 14, 2, 7}));
  REQUIRE(doc["tokens"].size() == 4);
  r = run({"--", "'s"});
  CHECK(r.out == "17 18\n");
  r = run({"héllo\t\n"});
  CHECK(r.out == "0 21 22 10 20 19\n");
  r = run({"bad \xff"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("not valid UTF-8 at byte 4"));
  CHECK(test::exec_cli({"tokenize", "hello"}).status == 2);
  CHECK(test::exec_cli({"tokenize", "--vocab", dir / "vocab.json", "hello"}).status == 2);
  CHECK(test::exec_cli({"tokenize", "--model", dir.path, "--vocab", dir / "vocab.json", "--merges", dir / "merges.txt", "x"}).status == 2);
}

TEST_CASE("tokenize: unreadable or malformed vocab.json and merges.txt, one line naming the file, status 1", "[bpe][cli]") {
  struct Bad {
    const char* vocab;
    const char* merges;
    const char* file;
    const char* message;
  };
  const char* good_vocab = test::toy_vocab_json();
  const char* good_merges = test::toy_merges_txt();
  const Bad cases[] = {
      {nullptr, good_merges, "vocab.json", "cannot open"},
      {good_vocab, nullptr, "merges.txt", "cannot open"},
      {"{\"h\": 0,", good_merges, "vocab.json", "not valid JSON"},
      {"[\"h\"]", good_merges, "vocab.json", "not a JSON object"},
      {"{\"h\": \"zero\"}", good_merges, "vocab.json", "token 'h' has id \"zero\""},
      {"{\"h\": -1}", good_merges, "vocab.json", "not a token id"},
      {"{\"h\": 0, \"e\": 0}", good_merges, "vocab.json", "given to two spellings"},
      {"{\"h i\": 0}", good_merges, "vocab.json", "outside GPT-2's byte alphabet"},
      {"{}", good_merges, "vocab.json", "empty"},
      {good_vocab, "#version: 0.2\nh e\nl l l\n", "merges.txt", "line 3"},
      {good_vocab, "#version: 0.2\nhe\n", "merges.txt", "line 2"},
  };
  for (const Bad& b : cases) {
    INFO(b.file << ": " << b.message);
    test::TempDir dir("bpe_bad");
    if (b.vocab) test::write_text(dir / "vocab.json", b.vocab);
    if (b.merges) test::write_text(dir / "merges.txt", b.merges);
    const test::ExecResult r =
        test::exec_cli({"tokenize", "--vocab", dir / "vocab.json", "--merges", dir / "merges.txt", "hello"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains(dir / b.file) && Catch::Contains(b.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}
