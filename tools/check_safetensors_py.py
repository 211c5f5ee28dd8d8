"""Checks that a safetensors file written by our TypeScript writer loads in Python safetensors and
holds exactly the tensors and metadata of a reference file (NaN == NaN, -0 != +0).

Usage:
  node -e "import('./dist/src/formats/safetensors.js').then(m => { const a = m.readSafetensors('test/fixtures/st-python.safetensors'); m.writeSafetensors('/tmp/ours.safetensors', a.tensors, a.metadata); })"
  .venv/bin/python tools/check_safetensors_py.py /tmp/ours.safetensors test/fixtures/st-python.safetensors
Prints one JSON line; exit 0 when identical.
"""

import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    ours, ref = sys.argv[1], sys.argv[2]
    a, b = load_file(ours), load_file(ref)
    with safe_open(ours, framework='pt') as f:
        meta_a = f.metadata()
    with safe_open(ref, framework='pt') as f:
        meta_b = f.metadata()
    problems = []
    if sorted(a) != sorted(b):
        problems.append(f'names differ: {sorted(set(a) ^ set(b))}')
    for k in sorted(set(a) & set(b)):
        x, y = a[k], b[k]
        if x.dtype != y.dtype or x.shape != y.shape:
            problems.append(f'{k}: {x.dtype}{list(x.shape)} vs {y.dtype}{list(y.shape)}')
            continue
        if x.is_floating_point():
            xb = x.view(torch.int16 if x.element_size() == 2 else torch.int32 if x.element_size() == 4 else torch.int64)
            yb = y.view(xb.dtype)
            if not torch.equal(xb, yb):
                problems.append(f'{k}: values differ')
        elif not torch.equal(x, y):
            problems.append(f'{k}: values differ')
    if meta_a != meta_b:
        problems.append(f'metadata differs: {meta_a} vs {meta_b}')
    print(json.dumps({'ok': not problems, 'tensors': len(a), 'problems': problems}))
    sys.exit(0 if not problems else 1)


if __name__ == '__main__':
    main()
