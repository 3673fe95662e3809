#pragma once
// Measures the compute ceiling beside the bandwidth one (bandwidth_probe.h): the multiply-add rate
// of the kernel set in use (core/engine/kernels/isa.h) on every thread, from registers only.
namespace kvscope::cli {

// Best of `repeats` runs of the kernel set's multiply-add loop on `n_threads` threads. Returns
// floating-point operations per second, a multiply-add counted as two.
double measure_flop_peak(int n_threads, int repeats);

}  // namespace kvscope::cli
