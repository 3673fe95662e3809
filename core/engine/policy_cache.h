#pragma once
// PolicyKvCache: a KV cache managed by a KvPolicy (core/engine/cache_policy.h). After each step it evicts,
// per layer and KV head, what the policy does not keep (sinks, the newest window, heavy hitters by
// accumulated attention); evicted positions are never read again. It stores rows in float32, fp16 or,
// as KIVI does, in 8 or 4 bits:
//   keys    per channel over groups of kKeyGroup positions: one (zero, scale) in fp16 per channel and
//           group. A group is quantized when its last position is written, over the positions then
//           held; until then its rows wait in fp16 (KIVI's residual).
//   values  per position over the whole row (KV heads side by side): one (zero, scale) per position.
// Attention reads through KvRows: read_layer() dequantizes the held rows into a read buffer (a GPU
// kernel would dequantize in registers). bytes_held() counts codes, scales and fp16 rows, never that
// buffer nor the rows kept to measure the error. Storage is indexed by position: eviction frees
// nothing here (bytes_allocated), a compacting cache would (bytes_held). A local layer (Gemma 3) also
// drops what falls out of its own window, as the plain cache's ring does: the model never reads it again.
#include <cstdint>
#include <vector>

#include "core/engine/cache_policy.h"
#include "core/engine/config.h"
#include "core/engine/kv_quant.h"
#include "core/engine/kv_rows.h"
#include "core/engine/tensor.h"

namespace kvscope {

class PolicyKvCache final : public KvRows {
 public:
  static constexpr int kKeyGroup = 32;  // KIVI's group: 32 positions share a key channel's scale

  PolicyKvCache() = default;
  PolicyKvCache(const ModelConfig& config, const KvPolicy& policy);

  const KvPolicy& policy() const { return policy_; }
  int n_layer() const { return int(layers_.size()); }
  int n_kv_head() const { return n_kv_head_; }

  int next_position() const override { return next_position_; }
  void held_positions(int layer, int kv_head, std::vector<int>& out) const override;
  KvLayerView read_layer(int layer) override;
  void write(int layer, int position, const float* key, const float* value) override;
  void advance(int n_positions) override { next_position_ += n_positions; }
  std::int64_t bytes_held() const override;
  std::int64_t bytes_allocated() const override;

  const std::vector<int>& held(int layer, int kv_head) const { return layers_[layer].held[kv_head]; }
  // Adds one call's LayerRecord::key_attention ([n_kv_head, key_end]) to the layer's running sums.
  void add_attention(int layer, const Eigen::MatrixXd& key_attention);
  // Accumulated attention per position (0 for positions never attended), for heavy hitters.
  const std::vector<double>& attention_sums(int layer, int kv_head) const { return layers_[layer].sums[kv_head]; }
  // Evicts what the policy does not keep now that positions 0..next_position()-1 exist. Returns, per
  // layer and KV head, the positions evicted (ascending).
  std::vector<std::vector<std::vector<int>>> evict();
  // Largest |row read - row written| over the held rows the last read_layer(layer) dequantized, K and V
  // (0 for float32 rows).
  float read_key_error(int layer) const { return layers_[layer].key_error; }
  float read_value_error(int layer) const { return layers_[layer].value_error; }

 private:
  struct Layer {
    int window = 0;                         // the layer's own window (0: global)
    std::vector<std::vector<int>> held;     // per KV head, ascending
    std::vector<std::vector<double>> sums;  // per KV head, per position: attention received so far
    std::vector<float> key32, value32;      // bits 32: [capacity, row_dim]
    std::vector<std::uint16_t> key16, value16;  // bits 16: [capacity, row_dim]; 4/8: key16 = residual [kKeyGroup, row_dim]
    PackedCodes key_codes, value_codes;     // bits 4/8: [capacity, row_dim]
    std::vector<QuantScale> key_scales;     // bits 4/8: [groups, row_dim]
    std::vector<QuantScale> value_scales;   // bits 4/8: [capacity]
    int sealed_groups = 0;                  // key groups 0..sealed_groups-1 are quantized
    std::vector<float> exact_keys, exact_values;  // bits < 32: the rows as written, to measure the error only
    Matrix read_keys, read_values;          // bits < 32: the read buffer [capacity, row_dim]
    bool read_stale = true;
    float key_error = 0.0f, value_error = 0.0f;
  };
  void reserve(int positions);
  void seal_group(Layer& l, int group);
  void decode(Layer& l);
  bool sealed(const Layer& l, int position) const { return position / kKeyGroup < l.sealed_groups; }

  KvPolicy policy_;
  std::vector<Layer> layers_;
  int row_dim_ = 0, d_head_ = 0, n_kv_head_ = 0;
  int capacity_ = 0;
  int next_position_ = 0;
};

}  // namespace kvscope
