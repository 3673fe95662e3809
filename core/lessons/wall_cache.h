#pragma once
// A cache the memory-wall lesson measures beside the loaded model's plain float32 cache, from a spec in
// the lesson's "compare":
//   window:W     a policy cache keeping the newest W positions (any policy spec: "sinks:4,window:512")
//   bits:8       a policy cache storing 4-, 8- or 16-bit codes (any "bits:B")
//   bf16, f16    the plain cache with 16-bit rows, read as stored (llama.cpp's default cache is f16)
//   kv_heads:K   the same shape with K KV heads (random weights, seeded): fewer K/V rows per position
//   latent:R     the same shape with multi-head latent attention, a latent row of R (random weights)
// Parsing only: core/lessons/memory_wall.h measures them.
#include <string>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/stored_dtype.h"

namespace kvscope {

enum class WallCacheKind { Full, Rows16, Policy, KvHeads, Latent };

struct WallCache {
  std::string spec;  // canonical: "full", "bf16", "window:512", "bits:8", "kv_heads:1", "latent:64"
  std::string name;  // as shown: "full cache", "bf16 rows", "window:512", "bits:8", "1 KV head", "latent 64"
  WallCacheKind kind = WallCacheKind::Full;
  KvPolicy policy;                        // Policy
  WeightDtype dtype = WeightDtype::F32;   // Rows16
  int kv_heads = 0;                       // KvHeads
  int latent_rank = 0;                    // Latent
  // Whether its time per token is charted: kvscope's 8-bit cache decodes every row it reads to float and
  // its latent attention rebuilds K and V of every position each step (the ways a student can follow),
  // so their times are not what a production kernel's would be. Their bytes are.
  bool timed() const { return !(kind == WallCacheKind::Latent || (kind == WallCacheKind::Policy && policy.quantizes())); }
};

WallCache full_wall_cache();
// Throws UsageError with a one-line message naming the spec and what is wrong.
WallCache parse_wall_cache(const std::string& spec);

}  // namespace kvscope
