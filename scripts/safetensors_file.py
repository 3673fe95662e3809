"""Writes a .safetensors file (8-byte header length, JSON header, tensor bytes) with Python's standard
library, for the folder-writing scripts beside it."""
import json


def write_safetensors(path, tensors):
    """tensors: (name, dtype, shape, little-endian bytes) in file order."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, blob in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        for _, _, _, blob in tensors:
            f.write(blob)
