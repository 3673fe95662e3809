#pragma once
// write_safetensors: saves float tensors as a .safetensors file, each stored as F32, F16 or BF16
// (rounded to nearest, ties to even). Used by the trainer and by tests that build model folders.
// The file appears whole or not at all: it is written to a temporary file beside the target,
// flushed, then renamed over it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvscope {

struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;  // row-major; the data holds the product of these many floats
  std::string dtype;                // "F32", "F16" or "BF16": how the values are stored on disk
  const float* data = nullptr;
};

// Tensors are laid out in the order given. Throws UsageError for an empty, duplicate or reserved
// name, an unknown dtype, a negative dimension or missing data; DataError naming the path when
// the file cannot be written (the target is then left as it was).
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace kvscope
