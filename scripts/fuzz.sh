#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS (default 30), as
# many at once as there are cores, over its seed corpus in tests/fuzz/corpus/<target>. New inputs go to a scratch folder, so the
# repository is not changed; a crash stops the script with the reproducer's path.
# The targets live in the sanitizer tree (preset asan, which scripts/test.sh has built by then), so
# the core is compiled once for the sanitizer suite and the fuzzers; PRESET=fuzz builds them alone.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
preset="${PRESET:-asan}"
build_dir="build-$preset"
targets=()  # one per tests/fuzz/fuzz_*.cpp, as tests/fuzz/CMakeLists.txt builds them
for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$(nproc)" --target "${targets[@]}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# One target per core at a time (each libFuzzer run is one process on one core).
run_target() {
  local target=$1
  mkdir -p "$scratch/$target"
  if ! ./$build_dir/tests/fuzz/$target -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
      -artifact_prefix="$scratch/$target-" -print_final_stats=1 "$scratch/$target" "tests/fuzz/corpus/$target" \
      2>"$scratch/$target.log"; then
    tail -40 "$scratch/$target.log"
    cp "$scratch/$target"-crash-* . 2>/dev/null || true
    echo "fuzz: $target FAILED"
    return 1
  fi
  grep -E "stat::number_of_executed_units" "$scratch/$target.log" | sed "s/^/fuzz: $target /"
}
failed=0
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || failed=1; done
  echo "fuzz: $target for ${seconds}s"
  run_target "$target" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
[ "$failed" -eq 0 ] || exit 1
echo "fuzz: all targets ran ${seconds}s each without a finding"
