#!/usr/bin/env bash
# The main job: build, then open the kvscope window on the default lesson
# ("Time" -> "Time flies" -> "Time flies fast" on the built-in model). Without a display, the same
# lesson is stepped through in the terminal instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec ./build/gui/kvscope "$@"
fi
echo "run: no display found; stepping through the default lesson in the terminal"
exec ./build/examples/kvscope-cli generate --prompt "Time" --force "flies fast"
