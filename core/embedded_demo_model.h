#pragma once
// The demo model's three files (examples/models/demo), compiled into the binary.
#include <cstddef>
#include <string>

namespace kvscope {

struct EmbeddedFile {
  const unsigned char* data;
  std::size_t size;
  std::string text() const { return std::string(reinterpret_cast<const char*>(data), size); }
};

EmbeddedFile embedded_demo_config();   // config.json
EmbeddedFile embedded_demo_weights();  // model.safetensors
EmbeddedFile embedded_demo_vocab();    // vocab.txt

}  // namespace kvscope
