#pragma once
// A model family as one row of traits: the kinds every branch of the engine, the formats, the trainer
// and the window reads. Nothing asks which family a model is; it asks how its positions, norms, MLP
// and projections work. Values that vary between checkpoints of one family (biases, softcaps,
// per-layer windows and RoPE bases, query scale) are ModelConfig's fields, read through its accessors.
// Adding a family: docs/adding-a-family.md.
namespace kvscope {

enum class ModelFamily { Gpt2, Llama, Gemma3 };

enum class PositionKind { Learned, Rotary };  // a position table added to the input / RoPE on q and k
enum class NormKind { LayerNorm, RmsNorm };   // mean and variance with gain and bias / root mean square, gain only
enum class MlpKind { Gelu, SiluGated, GeluGated };  // W2 gelu(W1 n) / W_down (act(W_gate n) * W_up n)
enum class QkvLayout { Fused, Separate };     // one [3d, d] matrix split into Q|K|V / q, k, v projections

struct FamilyTraits {
  ModelFamily family;
  const char* name;           // "gpt2", "llama", "gemma3": config files, JSON, the window's labels
  PositionKind positions;
  NormKind norm;
  bool norm_gain_offset;      // RMSNorm gain stored as w and applied as 1 + w (Gemma)
  bool sandwich_norms;        // a norm also after attention and after the MLP, before the residual add (Gemma 3)
  MlpKind mlp;
  QkvLayout qkv;
  bool latent_attention;      // multi-head latent attention (kv_lora_rank) is defined on this layout
  const char* layer_prefix;   // tensor names of block i start with prefix + i ("h.", "model.layers.")
};

const FamilyTraits& family_traits(ModelFamily family);
// The family named `name` ("gpt2", ...), or null.
const FamilyTraits* family_by_name(const char* name);
// Matrices of one MLP: 2 (up, down) or 3 (gate, up, down).
inline int mlp_matrices(MlpKind kind) { return kind == MlpKind::Gelu ? 2 : 3; }

}  // namespace kvscope
