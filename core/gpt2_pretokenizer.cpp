#include "core/gpt2_pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"

namespace kvscope {

namespace {
const char* const kPattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}
}  // namespace

struct Gpt2Pretokenizer::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

Gpt2Pretokenizer::Gpt2Pretokenizer() {
  auto compiled = std::make_shared<Compiled>();
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  // A fixed pattern: failing here means PCRE2 was built without Unicode support.
  if (!compiled->code) throw DataError("cannot compile GPT-2's pre-tokenizer pattern: " + pcre2_message(error));
  pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is the fallback
  compiled_ = compiled;
}

std::vector<std::string> Gpt2Pretokenizer::split(const std::string& text) const {
  std::vector<std::string> pieces;
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), pcre2_match_data_free);
  if (!match) throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  PCRE2_SIZE start = 0;
  std::uint32_t options = 0;  // the first call checks the whole text is valid UTF-8; later ones skip it
  while (start < text.size()) {
    const int rc = pcre2_match(compiled_->code, subject, text.size(), start, options, match.get(), nullptr);
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
      throw DataError("text is not valid UTF-8 at byte " + std::to_string(pcre2_get_startchar(match.get())) +
                      ": " + pcre2_message(rc));
    if (rc == PCRE2_ERROR_NOMATCH) break;  // cannot happen: \s+ and [^\s\p{L}\p{N}]+ cover every character
    if (rc < 0) throw DataError("pre-tokenizer failed: " + pcre2_message(rc));
    const PCRE2_SIZE* range = pcre2_get_ovector_pointer(match.get());
    // Every alternative matches at least one character; guard the loop all the same.
    if (range[1] <= start) throw DataError("pre-tokenizer made no progress at byte " + std::to_string(start));
    // findall semantics: characters before the match would be skipped (none are, see above).
    pieces.emplace_back(text, range[0], range[1] - range[0]);
    start = range[1];
    options = PCRE2_NO_UTF_CHECK;
  }
  return pieces;
}

}  // namespace kvscope
