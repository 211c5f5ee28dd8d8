"""Reads a GGUF file with the `gguf` Python package (llama.cpp's own reader) and prints one JSON line:
{"metadata": {key: value, ...} (arrays left out), "tokens": [...], "token_types": [...],
 "tensors": {name: {"type": "Q8_0", "shape": [ne0, ne1, ...]}}, "token_embd_dequantized": [...]}

Usage: .venv/bin/python tools/check_gguf.py FILE.gguf
"""
import json
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType
from gguf.quants import dequantize


def main():
    r = GGUFReader(sys.argv[1])
    meta, tokens, types = {}, [], []
    for name, f in r.fields.items():
        if name.startswith('GGUF.'):
            continue
        if f.types and f.types[0] == GGUFValueType.ARRAY:
            if name == 'tokenizer.ggml.tokens':
                tokens = [bytes(f.parts[i]).decode('utf-8') for i in f.data]
            elif name == 'tokenizer.ggml.token_type':
                types = [int(f.parts[i][0]) for i in f.data]
            continue
        v = f.parts[f.data[0]]
        meta[name] = bytes(v).decode('utf-8') if f.types[0] == GGUFValueType.STRING else v.tolist()[0]
    tensors, embd = {}, None
    for t in r.tensors:
        tensors[t.name] = {'type': t.tensor_type.name, 'shape': [int(x) for x in t.shape]}
        if t.name == 'token_embd.weight':
            embd = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1).tolist()
    print(json.dumps({'metadata': meta, 'tokens': tokens, 'token_types': types, 'tensors': tensors, 'token_embd_dequantized': embd}))


if __name__ == '__main__':
    main()
