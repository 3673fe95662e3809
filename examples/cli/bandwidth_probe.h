#pragma once
// Measures the machine's memory read bandwidth: the ceiling ("roofline") for cached decode,
// which must stream every weight once per token.
#include <cstddef>

namespace kvscope::cli {

// Best of `repeats` passes summing a buffer of `bytes` (far larger than the caches) with
// `n_threads` threads, at the active kernel set's vector width (isa.h). Returns bytes per second.
double measure_read_bandwidth(std::size_t bytes, int n_threads, int repeats);

}  // namespace kvscope::cli
