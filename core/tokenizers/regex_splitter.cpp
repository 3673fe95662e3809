#include "core/tokenizers/regex_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/engine/kernels/error.h"

namespace kvscope {

namespace {
// Bounds the backtracking of a pattern read from a file; GPT-2's and Llama 3's patterns need a few
// dozen steps a character.
constexpr std::uint32_t kMatchLimit = 10'000'000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

// Bytes in the UTF-8 character that starts at text[i] (1 for a stray byte; the text is checked).
std::size_t char_length(const std::string& text, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  const std::size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  return i + n <= text.size() ? n : text.size() - i;
}
}  // namespace

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  ~Compiled() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

RegexSplitter::RegexSplitter(const std::string& pattern) {
  auto compiled = std::make_shared<Compiled>();
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (!compiled->code)
    throw DataError("regex '" + pattern.substr(0, 80) + "' does not compile at offset " +
                    std::to_string(error_offset) + ": " + pcre2_message(error));
  pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is the fallback
  compiled->context = pcre2_match_context_create(nullptr);
  if (!compiled->context) throw std::bad_alloc();
  pcre2_set_match_limit(compiled->context, kMatchLimit);
  compiled_ = compiled;
}

std::vector<std::string> RegexSplitter::split(const std::string& text) const {
  std::vector<std::string> pieces;
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), pcre2_match_data_free);
  if (!match) throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  PCRE2_SIZE start = 0, piece_start = 0;  // search from start; text before piece_start is cut
  std::uint32_t options = 0;  // the first call checks the whole text is valid UTF-8; later ones skip it
  while (start < text.size()) {
    const int rc = pcre2_match(compiled_->code, subject, text.size(), start, options, match.get(), compiled_->context);
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
      throw DataError("text is not valid UTF-8 at byte " + std::to_string(pcre2_get_startchar(match.get())) +
                      ": " + pcre2_message(rc));
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw DataError("pre-tokenizer regex failed at byte " + std::to_string(start) + ": " + pcre2_message(rc));
    options = PCRE2_NO_UTF_CHECK;
    const PCRE2_SIZE* range = pcre2_get_ovector_pointer(match.get());
    if (range[1] <= range[0]) {  // an empty match cuts nothing; look again one character on
      start = range[0] + (range[0] < text.size() ? char_length(text, range[0]) : 1);
      continue;
    }
    if (range[0] > piece_start) pieces.emplace_back(text, piece_start, range[0] - piece_start);
    pieces.emplace_back(text, range[0], range[1] - range[0]);
    start = piece_start = range[1];
  }
  if (piece_start < text.size()) pieces.emplace_back(text, piece_start, text.size() - piece_start);
  return pieces;
}

}  // namespace kvscope
