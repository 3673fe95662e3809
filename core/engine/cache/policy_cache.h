#pragma once
// PolicyKvCache: a KV cache managed by a KvPolicy (kv_policy.h): after each step its eviction rule says,
// per layer and KV head, which positions stay and why; evicted positions are never read again. Its
// quantizer stores the rows (float32, fp16, KIVI's 8 or 4 bits) and reads them back. A local layer
// (Gemma 3) also drops what falls out of its own window, as the plain cache's ring does: the model
// never reads it again.
// Attention reads through KvRows. bytes_held() counts what the quantizer holds for the held rows
// (codes, scales, fp16 rows), never the read buffer nor the rows kept to measure the error. Storage is
// indexed by position: eviction frees nothing here (bytes_allocated), a compacting cache would
// (bytes_held). The error of the rows read is measured here against the rows as written, apart from
// the quantizer; the divergence from full attention is measured by the session (policy_step.h).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/cache/kv_rows.h"
#include "core/engine/kernels/tensor.h"
#include "core/engine/model/config.h"

namespace kvscope {

// What one eviction did, per layer and KV head.
struct Eviction {
  std::vector<std::vector<KeptRows>> kept;            // [layer][KV head] what stays, and why
  std::vector<std::vector<std::vector<int>>> evicted; // [layer][KV head] ascending
};

class PolicyKvCache final : public KvRows {
 public:
  PolicyKvCache() = default;
  PolicyKvCache(const ModelConfig& config, const KvPolicy& policy);

  const KvPolicy& policy() const { return policy_; }
  int n_layer() const { return int(layers_.size()); }
  int n_kv_head() const { return shape_.n_kv_head; }

  int next_position() const override { return next_position_; }
  void held_positions(int layer, int kv_head, std::vector<int>& out) const override;
  KvLayerView read_layer(int layer) override;
  void write(int layer, int position, const float* key, const float* value) override;
  void advance(int n_positions) override { next_position_ += n_positions; }
  std::int64_t bytes_held() const override;
  std::int64_t bytes_allocated() const override;

  const std::vector<int>& held(int layer, int kv_head) const { return layers_[std::size_t(layer)].held[std::size_t(kv_head)]; }
  // Storage for `positions` positions now (it is indexed by position and grows by doubling otherwise: a
  // caller that knows the sequence's length, the bench's sweep, then never copies it on the way).
  void reserve(int positions);
  // Adds one call's LayerRecord::key_attention ([n_kv_head, key_end]) to the layer's running sums.
  void add_attention(int layer, const Eigen::MatrixXd& key_attention);
  // Accumulated attention per position (0 for positions never attended), for heavy hitters.
  const std::vector<double>& attention_sums(int layer, int kv_head) const { return layers_[std::size_t(layer)].sums[std::size_t(kv_head)]; }
  // Evicts what the rule does not keep now that positions 0..next_position()-1 exist. newest_attention:
  // per layer, the newest query's attention per position averaged over query heads (null when the
  // rule does not use it).
  Eviction evict(const std::vector<std::vector<double>>* newest_attention);
  // Largest |row read - row written| over the held rows the last read_layer(layer) read, K and V
  // (0 for float32 rows).
  float read_key_error(int layer) const { return layers_[std::size_t(layer)].key_error; }
  float read_value_error(int layer) const { return layers_[std::size_t(layer)].value_error; }
  // How a position's rows of one KV head are stored (codes, pairs, read and written rows); false for
  // float rows or a position not written.
  bool describe(int layer, int position, int kv_head, StoredRow* out) const;

 private:
  struct Layer {
    int window = 0;                         // the layer's own window (0: global)
    HeldByHead held;                        // per KV head, ascending
    std::vector<std::vector<double>> sums;  // per KV head, per position: attention received so far
    std::unique_ptr<QuantizedRows> rows;
    std::vector<float> exact_keys, exact_values;  // lossy quantizers: the rows as written, to measure the error only
    bool read_stale = true;
    KvLayerView view;
    float key_error = 0.0f, value_error = 0.0f;
  };
  void measure_error(Layer& l) const;

  KvPolicy policy_;
  RowShape shape_;
  std::vector<Layer> layers_;
  int capacity_ = 0;
  int next_position_ = 0;
};

}  // namespace kvscope
