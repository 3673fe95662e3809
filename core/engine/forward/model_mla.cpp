// Multi-head latent attention (DeepSeek-V2), the naive way a student can follow: the cache holds per
// layer and position a latent row c [r] and a shared rotated key k_rope [rope]; each call rebuilds K
// and V of every position attention reads from those rows (r = kv_lora_rank, rope = qk_rope_dim,
// nope = head_dim - rope):
//   n = RMSNorm(x) g1
//   q = n W_q^T                 [n, heads x head_dim]; the last rope dims of each head rotated
//   c = n W_dkv^T               [n, r]      cached
//   k_rope = rope(n W_kr^T)     [n, rope]   cached beside c: RoPE does not commute with W_uk, so the
//                                           rotated part of K cannot be rebuilt from c (DeepSeek's
//                                           decoupled rotary key, shared by every head)
//   K_h = [c W_uk_h^T | k_rope] [t, head_dim] temporaries, rebuilt every call
//   V_h = c W_uv_h^T            [t, head_dim]
// Attention then reads K and V through an ordinary KvLayerView over the temporaries, so MHA's loop
// (Model::attend_row) is reused unchanged. Production kernels absorb W_uk into the query and W_uv
// into W_o instead of rebuilding; the rebuild is what the trace's ledger counts (LayerMacs::rebuild).
#include <cassert>

#include "core/engine/kernels/linear.h"
#include "core/engine/forward/model.h"
#include "core/engine/kernels/norms.h"
#include "core/engine/model/rope.h"

namespace kvscope {

void Model::project_mla(int layer, ForwardScratch& s, int first_position) const {
  const LayerWeights& w = weights_->layers[layer];
  const int d_head = config_.d_head(), nope = config_.qk_nope_dim(), rope = config_.qk_rope_dim;
  const int r = config_.kv_lora_rank;
  pre_norm(s.x, w.ln_1_gamma, w.ln_1_beta, s.normed);
  project(s.normed, w.attn_q, nullptr, s.q);
  project(s.normed, w.attn_kv_down, nullptr, s.k_nope);  // [n, r] the latent, staged in k_nope
  project(s.normed, w.attn_k_rope, nullptr, s.v_up);     // [n, rope] the shared key before rotation
  const Eigen::Index n = s.q.rows();
  s.latent.resize(n, r + rope);
  s.latent.leftCols(r) = s.k_nope;
  s.latent.rightCols(rope) = s.v_up;
  // A row's angles once, for every head's rotated part and the shared key.
  std::vector<float> cos_a(inv_freq_.size()), sin_a(inv_freq_.size());
  for (Eigen::Index i = 0; i < n; ++i) {
    rope_angles(first_position + int(i), inv_freq_, cos_a.data(), sin_a.data());
    for (int h = 0; h < config_.n_head; ++h) rotate_heads(s.q.row(i).data() + h * d_head + nope, 1, rope, cos_a.data(), sin_a.data());
    rotate_heads(s.latent.row(i).data() + r, 1, rope, cos_a.data(), sin_a.data());
  }
  round(s.q);
  round(s.latent);
}

// K and V of the positions the new rows will read (the held ones inside the first row's window, then
// the new ones), rebuilt from their latent rows into s.k_rebuilt / s.v_rebuilt by position; s.k and
// s.v get the new rows' K and V. Returns a view over the rebuilt rows for attend_row.
KvLayerView Model::rebuild_kv(int layer, ForwardScratch& s, int first_position, KvRows& cache, int window) const {
  const LayerWeights& w = weights_->layers[layer];
  const int d_head = config_.d_head(), nope = config_.qk_nope_dim(), rope = config_.qk_rope_dim;
  const int r = config_.kv_lora_rank, q_dim = config_.q_dim();
  const int n = int(s.latent.rows()), key_end = first_position + n;
  const KvLayerView cached = cache.read_layer(layer);
  assert(cached.row_dim == r + rope && "an MLA cache holds latent | rotated key rows");
  cache.held_positions(layer, 0, s.rebuilt);  // every head reads the same latent rows
  const int first_read = visible_span(first_position, window).first;
  std::size_t kept = 0;
  for (int p : s.rebuilt)
    if (p >= first_read) s.rebuilt[kept++] = p;
  s.rebuilt.resize(kept);
  for (int p = first_position; p < key_end; ++p) s.rebuilt.push_back(p);
  const Eigen::Index m = Eigen::Index(s.rebuilt.size());
  // The cached (older) or new row of a position: latent | rotated key.
  auto row_of = [&](int p) { return p < first_position ? cached.key_row(p) : s.latent.row(p - first_position).data(); };
  s.latent_read.resize(m, r);
  for (Eigen::Index i = 0; i < m; ++i) s.latent_read.row(i) = Eigen::Map<const RowVector>(row_of(s.rebuilt[std::size_t(i)]), r);
  // [m, heads x nope] and [m, heads x head_dim]: the up-projections, one matrix product each.
  project(s.latent_read, w.attn_k_up, nullptr, s.k_nope);
  project(s.latent_read, w.attn_v_up, nullptr, s.v_up);
  s.k_rebuilt.resize(key_end, q_dim);
  s.v_rebuilt.resize(key_end, q_dim);
  for (Eigen::Index i = 0; i < m; ++i) {
    const int p = s.rebuilt[std::size_t(i)];
    const Eigen::Map<const RowVector> k_rope(row_of(p) + r, rope);
    for (int h = 0; h < config_.n_head; ++h) {
      s.k_rebuilt.row(p).segment(h * d_head, nope) = s.k_nope.row(i).segment(h * nope, nope);
      s.k_rebuilt.row(p).segment(h * d_head + nope, rope) = k_rope;
    }
    s.v_rebuilt.row(p) = s.v_up.row(i);
  }
  s.k = s.k_rebuilt.bottomRows(n);
  s.v = s.v_rebuilt.bottomRows(n);
  return KvLayerView{s.k_rebuilt.data(), s.v_rebuilt.data(), q_dim, 0};
}

}  // namespace kvscope
