#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS (default 30)
# over its seed corpus in tests/fuzz/corpus/<target>. New inputs go to a scratch folder, so the
# repository is not changed; a crash stops the script with the reproducer's path.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --parallel "$(nproc)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in fuzz_safetensors fuzz_hf_config fuzz_bpe_files fuzz_bpe_encode fuzz_word_tokenizer fuzz_lesson \
              fuzz_hf_tokenizer fuzz_batch_prompts; do
  mkdir -p "$scratch/$target"
  echo "fuzz: $target for ${seconds}s"
  ./build-fuzz/tests/fuzz/$target -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
    -artifact_prefix="$scratch/" -print_final_stats=1 "$scratch/$target" "tests/fuzz/corpus/$target" 2>"$scratch/$target.log" \
    || { tail -40 "$scratch/$target.log"; cp "$scratch"/crash-* . 2>/dev/null || true; echo "fuzz: $target FAILED"; exit 1; }
  grep -E "stat::number_of_executed_units" "$scratch/$target.log" | sed "s/^/fuzz: $target /"
done
echo "fuzz: all targets ran ${seconds}s each without a finding"
