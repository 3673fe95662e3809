// Weights held in their stored dtype (core/engine/kernels/weight_matrix.h): a BF16 or F16 folder stays
// 16-bit in memory, half the matrix bytes, and decodes to the logits of the same values held as F32,
// cached and uncached; saving writes the 16-bit values back unchanged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/engine/forward/model.h"
#include "core/engine/session/sampling.h"
#include "core/engine/model/tensor_table.h"
#include "core/formats/model_folder.h"
#include "core/formats/model_folder_writer.h"
#include "hf_gpt2_folder.h"

using namespace kvscope;

namespace {
// hf::random_gpt2's values have 8 significant bits: exact in F16 and BF16, so the folders hold the same numbers.
const hf::Gpt2& model_values() {
  static const hf::Gpt2 m = hf::random_gpt2(61, 16, 48, 4, 2, 21, true);
  return m;
}

std::int64_t matrix_values(const ModelConfig& c, const ModelWeights& w) {
  std::int64_t n = 0;
  visit_tensors(c, w, [&n](const TensorSpec& spec, const auto& t) {
    if (!spec.is_vector()) n += t.size();
  });
  return n;
}

// The largest difference of two logit rows, relative to the larger row's scale (at least 1).
double relative_difference(const RowVector& a, const RowVector& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0f, std::max(a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff()));
}
}  // namespace

TEST_CASE("weight dtype: a BF16 or F16 folder stays 16-bit and decodes like its F32 widening", "[weight_dtype][model_folder]") {
  test::TempDir f32_dir("dtype_f32");
  test::write_gpt2_folder(f32_dir.path, model_values(), {"F32", false, false});
  const LoadedModel wide = load_model_folder(f32_dir.path);
  const ModelConfig& c = wide.model->config();
  for (WeightDtype dtype : {WeightDtype::BF16, WeightDtype::F16}) {
    INFO(dtype_name(dtype));
    test::TempDir dir("dtype_16");
    test::write_gpt2_folder(dir.path, model_values(), {dtype_name(dtype), false, false});
    const LoadedModel narrow = load_model_folder(dir.path);
    const ModelWeights& w = narrow.model->weights();
    CHECK(w.layers[1].mlp_fc.dtype() == dtype);
    CHECK(w.token_embedding.dtype() == dtype);
    CHECK(w.lm_head.dtype() == dtype);
    CHECK(w.layers[1].mlp_fc.widened() == wide.model->weights().layers[1].mlp_fc.f32());
    // Every matrix value takes 2 bytes instead of 4; vectors stay float32.
    CHECK(weight_bytes(wide.model->weights(), c) - weight_bytes(w, c) == 2 * matrix_values(c, w));

    std::vector<int> tokens = {5, 17, 42, 3};
    KvCache wide_cache(c, 0), narrow_cache(c, 0);
    RowVector wide_logits, narrow_logits;
    std::vector<int> fed = tokens;
    for (int step = 0; step < 8; ++step) {
      INFO("step " << step);
      wide.model->forward_cached(fed, wide_cache, 0, wide_logits, nullptr);
      narrow.model->forward_cached(fed, narrow_cache, 0, narrow_logits, nullptr);
      CHECK(relative_difference(wide_logits, narrow_logits) < 1e-6);
      wide.model->forward_uncached(tokens, 0, wide_logits, nullptr);
      narrow.model->forward_uncached(tokens, 0, narrow_logits, nullptr);
      CHECK(relative_difference(wide_logits, narrow_logits) < 1e-6);
      tokens.push_back(argmax(wide_logits));
      fed = {tokens.back()};
    }
  }
}

TEST_CASE("weight dtype: saving a BF16 model writes its 16-bit values back unchanged", "[weight_dtype][model_folder]") {
  test::TempDir dir("dtype_save");
  test::write_gpt2_folder(dir / "in", model_values(), {"BF16", false, false});
  const LoadedModel loaded = load_model_folder(dir / "in");
  const ModelConfig& c = loaded.model->config();
  std::vector<std::string> words;
  for (int i = 0; i < c.vocab_size; ++i) words.push_back("w" + std::to_string(i));
  save_model_folder(dir / "out", c, loaded.model->weights(), words);
  const LoadedModel again = load_model_folder(dir / "out");
  const ModelWeights &a = loaded.model->weights(), &b = again.model->weights();
  CHECK(b.layers[0].attn_qkv.dtype() == WeightDtype::BF16);
  CHECK(a.layers[0].attn_qkv == b.layers[0].attn_qkv);  // Conv1D: transposed on the way out and back
  CHECK(a.lm_head == b.lm_head);
  CHECK(a.token_embedding == b.token_embedding);
  CHECK(a.ln_f_gamma == b.ln_f_gamma);
}
