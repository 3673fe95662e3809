#!/usr/bin/env bash
# Install what is missing, build, and pass the whole test suite (window tests under Xvfb included),
# then run every fuzz target for FUZZ_SECONDS each (default 30).
# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer:
#   bash scripts/build.sh asan && ctest --preset asan
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
ctest --preset default
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
