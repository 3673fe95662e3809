#!/usr/bin/env bash
# Retrains the built-in demo-llama-draft (examples/models/demo-llama-draft): the draft model of the
# speculative-decoding lesson. demo-llama's own tokenizer (a draft and its target must share one), on
# the same corpus, at a quarter of the width and one layer: cheap to run k times per target pass.
# Deterministic: the same build writes the same files.
#   bash scripts/train-demo-llama-draft.sh [path/to/kvscope-cli] [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build/examples/kvscope-cli}"
corpus=examples/corpus/demo_corpus.txt
out="${2:-examples/models/demo-llama-draft}"
"$cli" train --family llama --tokenizer examples/models/demo-llama/tokenizer.json --corpus "$corpus" --out "$out" --overwrite \
    --d-model 32 --n-head 2 --kv-heads 1 --n-layer 1 --d-ff 64 --context 64 --steps 2000 --seed 1 --log-every 500
