#pragma once
// A long prompt without typing one: the prompt's own tokens, then the built-in corpus
// (examples/corpus/demo_corpus.txt, its comment lines skipped) as many times as it takes to reach the
// length asked for. A tokenizer with a vocabulary encodes the corpus; a model without one (the
// random-weight presets, prompts as ids) reads the corpus's bytes as ids (10..126).
#include <string>
#include <vector>

#include "core/engine/kernels/embedded_file.h"
#include "core/engine/session/tokenizer.h"

namespace kvscope {

const std::vector<EmbeddedFile>& embedded_builtin_corpus();  // generated (core/CMakeLists.txt)

// A text as its bytes' values, the ids a model without a vocabulary reads a filled prompt as.
std::vector<int> text_bytes(const std::string& text);

// prompt_ids followed by the corpus's tokens, cut at `length`. Throws DataError when the prompt alone
// is longer than `length`.
std::vector<int> fill_prompt(const Tokenizer& tokenizer, std::vector<int> prompt_ids, int length);

}  // namespace kvscope
