#!/usr/bin/env bash
# Retrains the built-in demo-mla (examples/models/demo-mla): demo-llama's byte-level BPE tokenizer
# (learned from the demo corpus) and a Llama-style block whose attention is multi-head latent attention
# (DeepSeek-V2): per layer and position the cache holds a 32-wide latent row and an 8-wide shared rotated
# key; 4 heads of 16 dims (8 rotary) are rebuilt from them each step. Deterministic: the same build
# writes the same files.
#   bash scripts/train-demo-mla.sh [path/to/kvscope-cli] [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build/examples/kvscope-cli}"
corpus=examples/corpus/demo_corpus.txt
out="${2:-examples/models/demo-mla}"
tokenizer_dir="$(mktemp -d)"
trap 'rm -rf "$tokenizer_dir"' EXIT
"$cli" train-tokenizer --corpus "$corpus" --vocab-size 600 --out "$tokenizer_dir"
"$cli" train --family llama --tokenizer "$tokenizer_dir/tokenizer.json" --corpus "$corpus" --out "$out" --overwrite \
    --d-model 64 --n-head 4 --n-layer 2 --d-ff 128 --context 64 --kv-lora-rank 32 --rope-dim 8 \
    --steps 2000 --seed 1 --log-every 500
