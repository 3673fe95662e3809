#pragma once
// The built-in models' Hugging Face files, compiled into the binary (core/formats/CMakeLists.txt).
#include <vector>

#include "core/engine/kernels/embedded_file.h"

namespace kvscope {

// examples/models/demo: config.json, model.safetensors, vocab.txt
const std::vector<EmbeddedFile>& embedded_demo_model();
// examples/models/demo-llama: config.json, model.safetensors, tokenizer.json
const std::vector<EmbeddedFile>& embedded_demo_llama_model();
// examples/models/demo-mla: config.json, model.safetensors, tokenizer.json (demo-llama's tokenizer)
const std::vector<EmbeddedFile>& embedded_demo_mla_model();
const std::vector<EmbeddedFile>& embedded_demo_llama_draft_model();  // config.json, model.safetensors
// examples/models/gemma3-layout: config.json only (random weights; demo-llama's tokenizer)
const std::vector<EmbeddedFile>& embedded_gemma3_layout_model();
// examples/models/long-demo: config.json only (random weights; demo-llama's tokenizer)
const std::vector<EmbeddedFile>& embedded_long_demo_model();
// examples/models/smollm2-135m, examples/models/qwen3-0.6b: config.json only (random weights, token ids)
const std::vector<EmbeddedFile>& embedded_smollm2_135m_model();
const std::vector<EmbeddedFile>& embedded_qwen3_0_6b_model();

}  // namespace kvscope
