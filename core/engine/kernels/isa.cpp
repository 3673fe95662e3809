#include "core/engine/kernels/isa.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cstdlib>
#include <string>

#include "core/engine/kernels/error.h"

namespace kvscope {

namespace {
constexpr Isa kAll[] = {Isa::Sse2, Isa::Avx2, Isa::Avx512};

Isa pick_isa(const char* forced) {
  if (!forced || !*forced) {
    if (isa_supported(Isa::Avx512)) return Isa::Avx512;
    return isa_supported(Isa::Avx2) ? Isa::Avx2 : Isa::Sse2;
  }
  for (Isa isa : kAll) {
    if (std::string(forced) != isa_name(isa)) continue;
    if (!isa_supported(isa)) throw UsageError(std::string("KVSCOPE_ISA=") + forced + ": this CPU does not support it");
    return isa;
  }
  throw UsageError(std::string("KVSCOPE_ISA must be sse2, avx2 or avx512, got '") + forced + "'");
}
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Sse2: break;
  }
  return "sse2";
}

#ifdef __EMSCRIPTEN__
// WebAssembly: SSE2's kernels, which emscripten compiles to SIMD128; no wider set exists there.
bool isa_supported(Isa isa) { return isa == Isa::Sse2; }
const KernelSet& kernels_of(Isa) { return kSse2Kernels; }
#else
namespace {
// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
}  // namespace

bool isa_supported(Isa isa) {
  __builtin_cpu_init();  // needed before main (static initialisers); cheap afterwards
  switch (isa) {
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case Isa::Avx512: return __builtin_cpu_supports("avx512f");
    case Isa::Sse2: break;
  }
  return true;  // x86-64 includes SSE2
}

const KernelSet& kernels_of(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return kAvx2Kernels;
    case Isa::Avx512: return kAvx512Kernels;
    case Isa::Sse2: break;
  }
  return kSse2Kernels;
}
#endif

Isa active_isa() {
  static const Isa isa = pick_isa(std::getenv("KVSCOPE_ISA"));  // a throw leaves it unset: retried next call
  return isa;
}

const KernelSet& active_kernels() { return kernels_of(active_isa()); }

}  // namespace kvscope
