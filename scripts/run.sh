#!/usr/bin/env bash
# The main job: build, then step through "Time" -> "Time flies" -> "Time flies fast" on the built-in model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
./build/examples/kvscope-cli generate --prompt "Time" --force "flies fast"
