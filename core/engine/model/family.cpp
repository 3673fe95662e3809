#include "core/engine/model/family.h"

#include <cstring>

namespace kvscope {
namespace {

// One row per family; its tensors are its table in tensor_table.h.
const FamilyTraits kFamilies[] = {
    // family             name      positions             norm                gain+1 sandwich mlp                qkv                 MLA    prefix
    {ModelFamily::Gpt2,   "gpt2",   PositionKind::Learned, NormKind::LayerNorm, false, false, MlpKind::Gelu,      QkvLayout::Fused,    false, "h."},
    {ModelFamily::Llama,  "llama",  PositionKind::Rotary,  NormKind::RmsNorm,   false, false, MlpKind::SiluGated, QkvLayout::Separate, true,  "model.layers."},
    {ModelFamily::Gemma3, "gemma3", PositionKind::Rotary,  NormKind::RmsNorm,   true,  true,  MlpKind::GeluGated, QkvLayout::Separate, false, "model.layers."},
};

}  // namespace

// A switch without a default: a ModelFamily without a row does not compile (-Werror=switch).
const FamilyTraits& family_traits(ModelFamily family) {
  switch (family) {
    case ModelFamily::Gpt2: return kFamilies[0];
    case ModelFamily::Llama: return kFamilies[1];
    case ModelFamily::Gemma3: return kFamilies[2];
  }
  return kFamilies[0];  // unreachable: every enumerator returns above
}

const FamilyTraits* family_by_name(const char* name) {
  for (const FamilyTraits& row : kFamilies)
    if (std::strcmp(row.name, name) == 0) return &row;
  return nullptr;
}

}  // namespace kvscope
