#include "core/tokenizers/gpt2_pretokenizer.h"

namespace kvscope {

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Gpt2Pretokenizer::Gpt2Pretokenizer() : splitter_(kGpt2Pattern) {}

}  // namespace kvscope
