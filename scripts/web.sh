#!/usr/bin/env bash
# The browser build: installs what is missing (emscripten and the desktop's Debian packages), fetches
# the Debian source packages of ImGui, PCRE2 and utf8proc once (a private apt configuration adds
# deb-src for that one call; the system's stays as it is), and builds build-web/: index.html,
# kvscope_page.js, kvscope.js, kvscope.wasm and kvscope.data. Serve it from any static file server:
#   python3 -m http.server -d build-web    then open http://localhost:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh web
deps=$PWD/build-web-deps
sources=$deps/sources
if [ ! -f "$sources/fetched" ]; then
  apt_dir=$deps/apt
  rm -rf "$apt_dir" "$sources"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$sources"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
    >"$apt_dir/sources.list"
  apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
               -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Debug::NoLocking=1")
  apt-get "${apt_options[@]}" update -qq
  (cd "$sources" && apt-get "${apt_options[@]}" source -qq imgui=1.86+ds-1 pcre2=10.42-1 utf8proc=2.8.0-1 2>&1 |
     grep -v "^dpkg-source: info\|unsandboxed" || true)
  for d in imgui-1.86+ds pcre2-10.42 utf8proc-2.8.0; do
    [ -d "$sources/$d" ] || { echo "web.sh: apt-get source did not unpack $d" >&2; exit 1; }
  done
  touch "$sources/fetched"
fi
# Debian's emscripten runs its JavaScript tools with the machine's node; they need Debian's acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
# -O2, not CMake's -O3: a quicker build for the browser stage of CI.
emcmake cmake -S . -B "$deps/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSCOPE_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DKVSCOPE_WEB_SOURCES="$sources" -DKVSCOPE_WEB_OUTPUT="$PWD/build-web" >/dev/null
cmake --build "$deps/cmake" --target kvscope --parallel "$(nproc)"
echo "web.sh: build-web/ is the page: python3 -m http.server -d build-web, then http://localhost:8000/"
