#pragma once
// Model: a decoder-only transformer of one of the engine's families (config.h), run two ways over the
// same layer code:
//   forward_cached:   feed the new tokens only; K and V of earlier positions come from the cache,
//                     read through KvRows (core/engine/cache/kv_rows.h): contiguous, ring or paged.
//   forward_uncached: re-run the whole sequence into a scratch cache that is thrown away afterwards.
// A sliding window of W (0 = none) lets a query at position p see keys p-W+1..p in both ways; a local
// layer (Gemma 3) has a window of its own, and a layer attends with the smaller of the two. With
// learned positions (GPT-2) it bounds the cache's memory but never extends the position table; with
// rotary positions nothing is looked up by position, so a window lets decoding pass the context.
// The cached way reads whatever the cache holds (KvRows): a policy-managed cache may have evicted
// positions (per KV head) or hold them quantized; a query then reads only the held positions.
// Multi-head latent attention (config.mla()) caches a latent row per layer and position and rebuilds
// K and V from the rows attention reads, in both ways alike (core/engine/forward/model_mla.cpp).
#include <memory>
#include <vector>

#include "core/engine/model/config.h"
#include "core/engine/forward/forward_record.h"
#include "core/engine/forward/key_rows.h"
#include "core/engine/forward/numerics.h"
#include "core/engine/forward/split_attention.h"
#include "core/engine/cache/kv_cache.h"
#include "core/engine/cache/kv_rows.h"
#include "core/engine/model/weights.h"

namespace kvscope {

// Buffers reused from call to call so a cached decode step allocates nothing once warmed up.
// One thread's scratch in Model::attend, for one query row and KV head at a time.
struct AttentionLane {
  std::vector<int> keys;                           // the key positions the row reads, ascending
  std::vector<const float*> key_rows, value_rows;  // their K and V rows, at this KV head's columns
  std::vector<const std::uint16_t*> key_rows16, value_rows16;  // the same, when the cache stores 16-bit rows
  std::vector<float> weights;                      // one query head's scores, then attention weights, by key
  WeightDtype dtype = WeightDtype::F32;            // which of the two lists holds the rows

  KeyRows rows() const {
    return {dtype, key_rows.data(), value_rows.data(), key_rows16.data(), value_rows16.data()};
  }
};

struct ForwardScratch {
  Matrix x;                    // [n, d] residual stream of the new positions
  Matrix normed, qkv;          // [n, d]; GPT-2's fused [n, 3d]
  Matrix q, k, v;              // [n, q_dim], [n, kv_dim], [n, kv_dim]
  Matrix k_unrotated;          // [n, kv_dim] K before rotary positions (recorded for the trace)
  // A 16-bit cache: this call's K and V rows as it will store them, [n, kv_dim] bits each (k and v then
  // hold the same values widened, so what attention, the record and the cache see agree).
  std::vector<std::uint16_t> k16, v16;
  Matrix mixed, projected;     // [n, q_dim] attention output, [n, d]
  Matrix hidden, up;           // [n, d_ff]
  Matrix last, out;            // [1, d] newest row after the final norm, [1, vocab] its logits
  RowVector position_row;      // [d] one learned position embedding, widened from its stored dtype
  std::vector<std::vector<int>> held;  // per KV head: the positions the cache holds for this layer
  std::vector<AttentionLane> lanes;   // one per thread of Model::attend (attend_split: one per KV head)
  // attend_split: per query head and block, the block's softmax and unnormalised output; per thread, the
  // scores of every query head.
  std::vector<SoftmaxBlock> split_blocks;
  std::vector<float> split_outputs, split_scores;
  std::vector<KvHeadBlock> split_heads;  // per thread, a KV head each: the block it attends
  // attend_blocked: per KV head, its keys' K columns [d_head, keys] and V rows [keys, d_head] one after
  // another (spaced for the longest list); per thread, the stacked queries, scores then weights, outputs
  // and sums of one block.
  std::vector<float> block_keys_t, block_values, block_scores;
  PooledRows pooled_rows;  // a record that pools a long call's attention (forward_record.h)
  // MLA (core/engine/forward/model_mla.cpp): r = kv_lora_rank, rope = qk_rope_dim.
  Matrix latent;                   // [n, r + rope] the new rows' latent | rotated shared key (what is cached)
  Matrix latent_read;              // [rebuilt, r] the latent rows K and V are rebuilt from (cached, then new)
  Matrix k_nope, v_up;             // [rebuilt, n_head * nope], [rebuilt, q_dim] up-projections of the latents
  Matrix k_rebuilt, v_rebuilt;     // [key_end, q_dim] by position; only the rebuilt positions are filled
  std::vector<int> rebuilt;        // positions rebuilt in this call, ascending
};

class Model {
 public:
  Model(ModelConfig config, ModelWeights weights);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return *weights_; }
  // How it computes (numerics.h): float32 in each kernel's own order unless set otherwise.
  const Numerics& numerics() const { return numerics_; }
  void set_numerics(Numerics numerics) { numerics_ = numerics; }

  // Like forward_cached, but the logits of every new position, [tokens, vocab]: what a verifier of
  // several drafted tokens reads (speculative decoding).
  void forward_cached_all(const std::vector<int>& tokens, KvRows& cache, int window, Matrix& logits,
                          ForwardRecord* record = nullptr, ForwardScratch* scratch = nullptr) const;

  // Appends tokens at positions cache.next_position()... and returns the logits [vocab] of the
  // newest position. record may be null. The caller keeps learned positions below the context length.
  void forward_cached(const std::vector<int>& tokens, KvRows& cache, int window, RowVector& logits,
                      ForwardRecord* record, ForwardScratch* scratch = nullptr) const;

  // Recomputes every position of tokens from nothing; returns the logits of the last position.
  void forward_uncached(const std::vector<int>& tokens, int window, RowVector& logits,
                        ForwardRecord* record) const;

 private:
  void run_layer(int layer, ForwardScratch& s, int first_position, KvRows& cache, int window,
                 ForwardRecord* record) const;
  void project_qkv_fused(int layer, ForwardScratch& s) const;
  void project_qkv_separate(int layer, ForwardScratch& s, int first_position) const;
  void project_mla(int layer, ForwardScratch& s, int first_position) const;
  KvLayerView rebuild_kv(int layer, ForwardScratch& s, int first_position, KvRows& cache, int window) const;
  void attend(int layer, ForwardScratch& s, int first_position, KvRows& cache, int window,
              ForwardRecord* record) const;
  void attend_row(int layer, ForwardScratch& s, AttentionLane& lane, int i, int kv_head, int first_position,
                  const KvLayerView& view, int window, ForwardRecord* record) const;
  // A decode step's one row, each KV head's keys split into blocks across `threads` of the pool (split_attention.h).
  void attend_split(ForwardScratch& s, int first_position, const KvLayerView& view, int window, LayerRecord* r,
                    int threads) const;
  // Many new rows (a prefill, an uncached pass): blocks of query rows against the keys they read, two
  // matrix products per block and query head (blocked_attention.cpp).
  void attend_blocked(int layer, ForwardScratch& s, int first_position, const KvLayerView& view, int window,
                      ForwardRecord* record) const;
  // The keys a KV head reads inside span (attend's comment: held ones, then this call's new rows), with
  // their K and V rows, into lane. A row's span is visible_span(its position, window).
  void gather_keys(ForwardScratch& s, AttentionLane& lane, KeySpan span, int kv_head, int first_position,
                   const KvLayerView& view) const;
  // Its two halves: the positions (lane.keys, with lane's row lists sized to match), then the rows of
  // keys [begin, end), which threads may fill for disjoint ranges at once.
  void gather_key_positions(const ForwardScratch& s, AttentionLane& lane, KeySpan span, int kv_head, int first_position) const;
  void gather_key_rows(const ForwardScratch& s, AttentionLane& lane, int kv_head, int first_position,
                       const KvLayerView& view, std::int64_t begin, std::int64_t end) const;
  void narrow_new_rows(ForwardScratch& s, WeightDtype dtype) const;
  void mlp(int layer, ForwardScratch& s) const;
  // y = x W^T (+ b) in this model's numerics: row by row under same_order, the output rounded.
  void project(const Matrix& x, const WeightMatrix& w, const Vector* bias, Matrix& y) const;
  void round(Matrix& x) const { round_values(numerics_, x); }
  // Embeds tokens, runs every layer on the cache and advances it; s.x is then the new rows' stream.
  void run_stack(const std::vector<int>& tokens, KvRows& cache, int window, ForwardRecord* record,
                 ForwardScratch& s) const;
  // FinalNorm(x rows) W_head^T (softcapped) into s.out.
  void head_logits(const Matrix& rows, ForwardScratch& s) const;
  void record_layer(LayerRecord& record, bool with_rows, const ForwardScratch& s, int first_position) const;

  ModelConfig config_;
  std::shared_ptr<const ModelWeights> weights_;  // shared by copies that differ in numerics only
  Numerics numerics_;
  const std::vector<double>& inv_freq(int layer) const { return config_.layer_local(layer) ? inv_freq_local_ : inv_freq_; }
  float gain_offset() const { return config_.traits().norm_gain_offset ? 1.0f : 0.0f; }
  void pre_norm(const Matrix& x, const Vector& gain, const Vector& bias, Matrix& out) const;

  std::vector<double> inv_freq_;        // rotary inverse frequencies (empty for learned positions)
  std::vector<double> inv_freq_local_;  // of local layers: their own RoPE base (Gemma 3)
};

// `model` computing in `numerics`: itself when it already does, else a copy sharing its weights.
std::shared_ptr<const Model> with_numerics(std::shared_ptr<const Model> model, Numerics numerics);

}  // namespace kvscope
