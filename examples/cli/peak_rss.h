#pragma once
// The process's peak resident memory, and a restart of it, so the bench can report what loading and
// decoding a model needs without the probes' buffers that ran before.

namespace kvscope::cli {

// Peak resident set size since start-up or the last successful restart, in bytes.
long long peak_rss_bytes();

// Starts the peak over from the current resident size (Linux: /proc/self/clear_refs, "5").
// False when the kernel refuses; the peak then still counts everything since start-up.
bool restart_peak_rss();

}  // namespace kvscope::cli
