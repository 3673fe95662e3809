#pragma once
// Which kernel set (matvec_kernels.h) runs: the widest instruction set this CPU has, found once from
// __builtin_cpu_supports, unless the environment variable KVSCOPE_ISA=sse2|avx2|avx512 asks for one.
// The default build targets baseline x86-64 (only the kernel files get AVX flags), so one binary runs
// on any x86-64 CPU and still uses AVX2 or AVX-512 where the CPU has them.
#include "core/engine/kernels/matvec_kernels.h"

namespace kvscope {

enum class Isa { Sse2, Avx2, Avx512 };

const char* isa_name(Isa isa);  // "sse2", "avx2", "avx512": KVSCOPE_ISA's values
bool isa_supported(Isa isa);    // avx2 needs AVX2, FMA and F16C; avx512 needs AVX-512F
const KernelSet& kernels_of(Isa isa);  // run its functions only when isa_supported(isa)

// The set in use, chosen on the first call. UsageError (again on each call) when KVSCOPE_ISA is set
// to something other than sse2, avx2 or avx512, or to an instruction set this CPU lacks.
const KernelSet& active_kernels();
Isa active_isa();

}  // namespace kvscope
