#pragma once
// The kernel sets a kernel test runs: the portable reference and every set this CPU has.
#include <vector>

#include "core/engine/kernels/isa.h"

namespace test {

inline std::vector<const kvscope::KernelSet*> runnable_kernel_sets() {
  std::vector<const kvscope::KernelSet*> sets = {&kvscope::kPortableKernels};
  for (kvscope::Isa isa : {kvscope::Isa::Sse2, kvscope::Isa::Avx2, kvscope::Isa::Avx512})
    if (kvscope::isa_supported(isa)) sets.push_back(&kvscope::kernels_of(isa));
  return sets;
}

}  // namespace test
