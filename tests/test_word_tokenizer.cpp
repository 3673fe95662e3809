#include <catch2/catch.hpp>

#include "core/engine/kernels/error.h"
#include "core/tokenizers/word_tokenizer.h"

using kvscope::WordTokenizer;

TEST_CASE("word tokenizer: one token per word and punctuation mark", "[tokenizer]") {
  WordTokenizer tok({".", ",", "Time", "flies", "fast", "time", "duck"});
  CHECK(tok.encode("Time flies fast") == std::vector<int>{2, 3, 4});
  CHECK(tok.encode("  Time   flies,fast. ") == std::vector<int>{2, 3, 1, 4, 0});
  CHECK(tok.encode("time") == std::vector<int>{5});   // exact spelling first
  CHECK(tok.encode("FLIES") == std::vector<int>{3});  // then any case
  CHECK(tok.encode("") .empty());
  CHECK(tok.decode({2, 3, 4, 0}) == "Time flies fast.");
  CHECK(tok.decode({6, 1, 6}) == "duck, duck");
  CHECK(tok.token_text(99) == "<99>");
}

TEST_CASE("word tokenizer: unknown words name the nearest known words", "[tokenizer]") {
  WordTokenizer tok({"Time", "flies", "fast", "duck", "the"});
  try {
    tok.encode("Time flys fast");
    FAIL("expected a DataError");
  } catch (const kvscope::DataError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("unknown word 'flys'"));
    CHECK_THAT(message, Catch::Contains("nearest known words: flies"));
  }
  CHECK(tok.nearest("dcuk", 1) == std::vector<std::string>{"duck"});
}
