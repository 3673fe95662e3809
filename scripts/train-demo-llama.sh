#!/usr/bin/env bash
# Retrains the built-in demo-llama (examples/models/demo-llama): a byte-level BPE tokenizer learned
# from the demo corpus, then a Llama-style model (RoPE, 4 query heads sharing 2 KV heads, RMSNorm,
# SwiGLU) trained on it. Deterministic: the same build writes the same files.
#   bash scripts/train-demo-llama.sh [path/to/kvscope-cli] [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build/examples/kvscope-cli}"
corpus=examples/corpus/demo_corpus.txt
out="${2:-examples/models/demo-llama}"
tokenizer_dir="$(mktemp -d)"
trap 'rm -rf "$tokenizer_dir"' EXIT
"$cli" train-tokenizer --corpus "$corpus" --vocab-size 600 --out "$tokenizer_dir"
"$cli" train --family llama --tokenizer "$tokenizer_dir/tokenizer.json" --corpus "$corpus" --out "$out" --overwrite \
    --d-model 64 --n-head 4 --kv-heads 2 --n-layer 2 --d-ff 128 --context 64 --steps 2000 --seed 1 --log-every 500
