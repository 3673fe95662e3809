#!/usr/bin/env bash
# The browser test: builds the page (scripts/web.sh), installs puppeteer-core from the npm registry
# (the driver only: the browser is Debian's chromium), and runs tests/web/browser_test.js against
# build-web/, opening examples/models/demo-llama through the folder picker. Screenshots and the
# downloaded F12 screenshot go to build-web-deps/screenshots; the last line printed holds the
# measurements (first frame, a step's milliseconds, gzip sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/web.sh
npm_dir=build-web-deps/npm
if [ ! -f "$npm_dir/node_modules/puppeteer-core/package.json" ]; then
  mkdir -p "$npm_dir"
  (cd "$npm_dir" && npm install --silent --no-audit --no-fund --no-save puppeteer-core@25.19.0)
fi
NODE_PATH="$PWD/$npm_dir/node_modules" node tests/web/browser_test.js build-web examples/models/demo-llama \
  build-web-deps/screenshots
