// Any bytes as a .safetensors file: either a clean DataError or tensors that read back in bounds.
#include <vector>

#include "core/engine/kernels/error.h"
#include "core/formats/safetensors.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_scratch("model.safetensors", data, size);
  try {
    kvscope::SafetensorsFile file(path);
    for (const kvscope::TensorEntry& t : file.tensors()) {
      if (t.element_count > (1 << 20) || kvscope::dtype_size(t.dtype) == 0) continue;
      std::vector<float> out(std::size_t(t.element_count));
      try {
        file.read(t, out.data());
        if (t.shape.size() == 2) file.read_transposed(t, out.data());
      } catch (const kvscope::DataError&) {
      }
    }
  } catch (const kvscope::DataError&) {
  }
  return 0;
}
