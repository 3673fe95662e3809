#include "core/engine/model/family.h"

#include <cassert>
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

const FamilyTraits& family_traits(ModelFamily family) {
  for (const FamilyTraits& row : kFamilies)
    if (row.family == family) return row;
  assert(false && "every ModelFamily has a row in kFamilies");
  return kFamilies[0];
}

const FamilyTraits* family_by_name(const char* name) {
  for (const FamilyTraits& row : kFamilies)
    if (std::strcmp(row.name, name) == 0) return &row;
  return nullptr;
}

}  // namespace kvscope
