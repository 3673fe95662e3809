#include "core/lessons/wall_cache.h"

#include <cstdlib>

#include "core/engine/forward/numerics.h"
#include "core/engine/kernels/error.h"

namespace kvscope {

namespace {

// "kv_heads:2" -> 2; false when the spec is not "<prefix><whole number >= 1>".
bool count_after(const std::string& spec, const std::string& prefix, int* out) {
  if (spec.rfind(prefix, 0) != 0 || spec.size() == prefix.size() || spec.size() - prefix.size() > 6) return false;
  for (std::size_t i = prefix.size(); i < spec.size(); ++i)
    if (spec[i] < '0' || spec[i] > '9') return false;
  *out = std::atoi(spec.c_str() + prefix.size());
  return *out >= 1;
}

}  // namespace

WallCache full_wall_cache() {
  WallCache c;
  c.spec = "full";
  c.name = "full cache";
  return c;
}

WallCache parse_wall_cache(const std::string& spec) {
  WallCache c;
  if (spec == "full") return full_wall_cache();
  WeightDtype dtype;
  if (spec.rfind("kv_heads:", 0) == 0) {
    if (!count_after(spec, "kv_heads:", &c.kv_heads)) throw UsageError("\"" + spec + "\": kv_heads takes a whole number >= 1");
    c.kind = WallCacheKind::KvHeads;
    c.spec = spec;
    c.name = std::to_string(c.kv_heads) + (c.kv_heads == 1 ? " KV head" : " KV heads");
    return c;
  }
  if (spec.rfind("latent:", 0) == 0) {
    if (!count_after(spec, "latent:", &c.latent_rank)) throw UsageError("\"" + spec + "\": latent takes a whole number >= 1");
    c.kind = WallCacheKind::Latent;
    c.spec = spec;
    c.name = "latent " + std::to_string(c.latent_rank);
    return c;
  }
  if (parse_compute_dtype(spec, &dtype)) {
    if (dtype == WeightDtype::F32) return full_wall_cache();
    c.kind = WallCacheKind::Rows16;
    c.dtype = dtype;
    c.spec = compute_dtype_name(dtype);
    c.name = c.spec + " rows";
    return c;
  }
  try {
    c.policy = parse_kv_policy(spec);
  } catch (const UsageError& e) {
    throw UsageError("\"" + spec + "\" is not a cache to measure (a policy spec, bf16, f16, kv_heads:K or latent:R): " + e.what());
  }
  if (c.policy.full()) return full_wall_cache();
  c.kind = WallCacheKind::Policy;
  c.spec = c.name = c.policy.to_string();
  return c;
}

}  // namespace kvscope
