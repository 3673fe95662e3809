#!/usr/bin/env python3
"""Writes a GPT-2 folder (config.json + model.safetensors, no tokenizer: prompts as ids) with random
weights stored as F32 or BF16, for measuring what 16-bit weights save without downloading a checkpoint:

  write-gpt2-folder.py OUT [--dtype F32|BF16] [--layers 12] [--hidden 768] [--heads 12]
                           [--vocab 50257] [--context 1024] [--seed 1]

The defaults are gpt2-small's shapes (124M parameters). Every matrix value is a BF16 number, so the
F32 and BF16 folders of one seed hold the same values: the F32 file is the BF16 file widened. Python's
standard library only; about 10 s for gpt2-small.
"""
import argparse
import json
import os
import random

from safetensors_file import write_safetensors


def bf16_values(rng, n):
    """n random BF16 numbers of either sign with magnitudes in [2^-11, 2^-3), as (low, high) byte strings."""
    low = rng.randbytes(n)
    # high byte: sign bit and the exponent's top 7 bits; the exponent's low bit is low's top bit.
    highs = bytes([s | e for s in (0x00, 0x80) for e in (0x3A, 0x3B, 0x3C, 0x3D)])
    high = rng.randbytes(n).translate(bytes(highs[i % len(highs)] for i in range(256)))
    return low, high


def constant_values(value_bf16, n):
    return bytes([value_bf16 & 0xFF]) * n, bytes([value_bf16 >> 8]) * n


def pack(low, high, dtype):
    n = len(low)
    if dtype == "BF16":
        out = bytearray(2 * n)
        out[0::2], out[1::2] = low, high
    else:  # F32: the same number widened, the BF16 bits in the upper half
        out = bytearray(4 * n)
        out[2::4], out[3::4] = low, high
    return bytes(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--dtype", choices=["F32", "BF16"], default="F32")
    for name, default in [("layers", 12), ("hidden", 768), ("heads", 12), ("vocab", 50257), ("context", 1024),
                          ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    a = p.parse_args()
    rng = random.Random(a.seed)
    d = a.hidden
    tensors = [("wte.weight", [a.vocab, d]), ("wpe.weight", [a.context, d])]
    for l in range(a.layers):
        h = "h.%d." % l
        tensors += [(h + "ln_1.weight", [d]), (h + "ln_1.bias", [d]), (h + "attn.c_attn.weight", [d, 3 * d]),
                    (h + "attn.c_attn.bias", [3 * d]), (h + "attn.c_proj.weight", [d, d]),
                    (h + "attn.c_proj.bias", [d]), (h + "ln_2.weight", [d]), (h + "ln_2.bias", [d]),
                    (h + "mlp.c_fc.weight", [d, 4 * d]), (h + "mlp.c_fc.bias", [4 * d]),
                    (h + "mlp.c_proj.weight", [4 * d, d]), (h + "mlp.c_proj.bias", [d])]
    tensors += [("ln_f.weight", [d]), ("ln_f.bias", [d])]
    stored = []
    for name, shape in tensors:
        n = 1
        for s in shape:
            n *= s
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            values = constant_values(0x3F80, n)  # 1.0
        else:
            values = bf16_values(rng, n)
        stored.append((name, a.dtype, shape, pack(*values, a.dtype)))
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), stored)
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
              "n_embd": d, "n_head": a.heads, "n_layer": a.layers, "n_positions": a.context, "n_ctx": a.context,
              "vocab_size": a.vocab, "layer_norm_epsilon": 1e-5,
              "torch_dtype": "bfloat16" if a.dtype == "BF16" else "float32"}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
