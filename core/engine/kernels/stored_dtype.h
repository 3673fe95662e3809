#pragma once
// The dtypes values are stored in: weight matrices (as safetensors holds them) and KV cache rows. The
// kernels (matvec_kernels.h) read F16 and BF16 as stored and widen each value to float32 in registers,
// which is exact; compute is float32 throughout. Numerics (numerics.h) also names its rounding by them
// and parses their lower-case names (parse_compute_dtype).

namespace kvscope {

enum class WeightDtype { F32, F16, BF16 };

const char* dtype_name(WeightDtype dtype);  // "F32", "F16", "BF16": safetensors' spelling
int dtype_bytes(WeightDtype dtype);

}  // namespace kvscope
