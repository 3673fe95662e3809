#include "core/embedded_demo_model.h"

extern "C" {
extern const unsigned char kvscope_demo_config_begin[], kvscope_demo_config_end[];
extern const unsigned char kvscope_demo_weights_begin[], kvscope_demo_weights_end[];
extern const unsigned char kvscope_demo_vocab_begin[], kvscope_demo_vocab_end[];
}

namespace kvscope {

EmbeddedFile embedded_demo_config() {
  return {kvscope_demo_config_begin, std::size_t(kvscope_demo_config_end - kvscope_demo_config_begin)};
}
EmbeddedFile embedded_demo_weights() {
  return {kvscope_demo_weights_begin, std::size_t(kvscope_demo_weights_end - kvscope_demo_weights_begin)};
}
EmbeddedFile embedded_demo_vocab() {
  return {kvscope_demo_vocab_begin, std::size_t(kvscope_demo_vocab_end - kvscope_demo_vocab_begin)};
}

}  // namespace kvscope
