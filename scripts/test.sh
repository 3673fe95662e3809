#!/usr/bin/env bash
# Install what is missing, build, and pass the whole test suite: the release build (window tests
# under Xvfb included), the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, and a
# short run of every fuzz target (FUZZ_SECONDS each, default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
ctest --preset default
bash scripts/build.sh asan
ctest --preset asan
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
