#!/usr/bin/env bash
# Install what is missing, build, and pass the whole test suite (window tests under Xvfb included).
# Also available, not yet part of this command:
#   bash scripts/fuzz.sh 30                              every fuzz target for 30 s (clang, ASan + UBSan)
#   bash scripts/build.sh asan && ctest --preset asan    the suite under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
ctest --preset default
