#include "core/engine/kernels/stored_dtype.h"

namespace kvscope {

const char* dtype_name(WeightDtype dtype) {
  switch (dtype) {
    case WeightDtype::F16: return "F16";
    case WeightDtype::BF16: return "BF16";
    case WeightDtype::F32: break;
  }
  return "F32";
}

int dtype_bytes(WeightDtype dtype) { return dtype == WeightDtype::F32 ? 4 : 2; }

}  // namespace kvscope
