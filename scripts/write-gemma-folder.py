#!/usr/bin/env python3
"""Writes a Gemma 3 text folder (gemma3_text) with random F32 weights and no tokenizer (prompts as
ids), for trying local and global layers without downloading a checkpoint:

  write-gemma-folder.py OUT [--layers 6] [--pattern 6] [--window 4] [--heads 4] [--kv-heads 2]
                            [--head-dim 8] [--hidden 32] [--ff 48] [--vocab 40] [--context 24] [--seed 1]

Every --pattern-th layer is global, the others local with --window. Gemma 3 270M's attention layout
is --layers 18 --heads 4 --kv-heads 1 --head-dim 256 --window 512 --context 32768 (the widths and the
vocabulary do not change the cache). Python's standard library only.
"""
import argparse
import json
import os
import random
import struct

from safetensors_file import write_safetensors


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    for name, default in [("layers", 6), ("pattern", 6), ("window", 4), ("heads", 4), ("kv-heads", 2),
                          ("head-dim", 8), ("hidden", 32), ("ff", 48), ("vocab", 40), ("context", 24), ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    a = p.parse_args()
    rng = random.Random(a.seed)
    q, kv = a.heads * a.head_dim, a.kv_heads * a.head_dim
    shapes = {"model.embed_tokens.weight": [a.vocab, a.hidden], "model.norm.weight": [a.hidden]}
    for l in range(a.layers):
        pre = "model.layers.%d." % l
        shapes.update({pre + "input_layernorm.weight": [a.hidden], pre + "self_attn.q_proj.weight": [q, a.hidden],
                       pre + "self_attn.k_proj.weight": [kv, a.hidden], pre + "self_attn.v_proj.weight": [kv, a.hidden],
                       pre + "self_attn.o_proj.weight": [a.hidden, q], pre + "self_attn.q_norm.weight": [a.head_dim],
                       pre + "self_attn.k_norm.weight": [a.head_dim], pre + "post_attention_layernorm.weight": [a.hidden],
                       pre + "pre_feedforward_layernorm.weight": [a.hidden], pre + "mlp.gate_proj.weight": [a.ff, a.hidden],
                       pre + "mlp.up_proj.weight": [a.ff, a.hidden], pre + "mlp.down_proj.weight": [a.hidden, a.ff],
                       pre + "post_feedforward_layernorm.weight": [a.hidden]})
    stored = []
    for name, shape in shapes.items():
        n = 1
        for d in shape:
            n *= d
        scale = 0.1 if len(shape) == 1 else 0.25  # norms: w around 0 (applied as 1 + w)
        stored.append((name, "F32", shape, struct.pack("<%df" % n, *(rng.uniform(-scale, scale) for _ in range(n)))))
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), stored)
    kinds = ["full_attention" if (l + 1) % a.pattern == 0 else "sliding_attention" for l in range(a.layers)]
    config = {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": a.hidden,
              "intermediate_size": a.ff, "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads,
              "head_dim": a.head_dim, "num_hidden_layers": a.layers, "vocab_size": a.vocab,
              "max_position_embeddings": a.context, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
              "rope_local_base_freq": 10000.0, "rope_scaling": None, "sliding_window": a.window,
              "layer_types": kinds, "query_pre_attn_scalar": a.head_dim, "hidden_activation": "gelu_pytorch_tanh",
              "attn_logit_softcapping": None, "final_logit_softcapping": None, "tie_word_embeddings": True,
              "torch_dtype": "float32"}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
