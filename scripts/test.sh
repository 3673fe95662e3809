#!/usr/bin/env bash
# Build and pass the whole test suite (window tests run under Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
ctest --preset default
