#!/usr/bin/env bash
# Install what is missing, build, and pass the whole test suite three ways (what CI runs):
#   1. release build, every test (window tests under Xvfb included)
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer, LeakSanitizer on
#   3. every libFuzzer target for FUZZ_SECONDS (default 30) over its seed corpus
# `bash scripts/test.sh release` runs stage 1 only (quick local check).
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo "== test.sh: $* ($(date +%T))"; }
stage "release build and suite"
bash scripts/build.sh default
ctest --preset default
[ "${1:-all}" = release ] && exit 0
stage "sanitizer build and suite (ASan + UBSan + LSan)"
bash scripts/build.sh asan
ctest --preset asan
stage "fuzzing, ${FUZZ_SECONDS:-30} s per target"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
stage "all passed"
