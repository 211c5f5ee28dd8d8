"""Writes test/fixtures/adamw.safetensors: six steps of torch.optim.AdamW on three parameters of odd
shapes with given gradients and a cosine learning-rate factor, plus torch.nn.utils.clip_grad_norm_
cases. float64 compute, stored float32 (the stored init and grads are exactly what was used).
Format: tools/README.md.

Usage: .venv/bin/python tools/gen_adamw_fixture.py [--out test/fixtures]
"""

import argparse
import json
import math
import os

import torch
from safetensors.torch import save_file

SHAPES = [(5, 3), (7,), (3, 1, 5)]
STEPS = 6
LR, BETAS, EPS, WD = 1e-2, (0.9, 0.999), 1e-8, 0.1
MAX_NORM = 1.0


def lr_at(s):
    """MiniMind HEAD schedule: lr * (0.1 + 0.45 * (1 + cos(pi * s / S))), s = 1..S."""
    return LR * (0.1 + 0.45 * (1 + math.cos(math.pi * s / STEPS)))


def f32(x):
    """Round to float32 values, keep float64 for compute."""
    return x.float().double()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures'))
    args = ap.parse_args()
    g = torch.Generator().manual_seed(2024)
    t = {}
    params = [torch.nn.Parameter(f32(torch.randn(s, generator=g, dtype=torch.float64))) for s in SHAPES]
    for i, p in enumerate(params):
        t[f'p{i}.init'] = p.detach().float().clone()
    opt = torch.optim.AdamW(params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    for s in range(1, STEPS + 1):
        lr = lr_at(s)
        for group in opt.param_groups:
            group['lr'] = lr
        t[f'lr{s}'] = torch.tensor(lr, dtype=torch.float32)
        for i, p in enumerate(params):
            # gradients of varied scale, one with an exact zero, so bias correction and eps both matter
            gr = f32(torch.randn(p.shape, generator=g, dtype=torch.float64) * (0.1 * (i + 1)))
            if s == 2:
                gr.view(-1)[0] = 0.0
            p.grad = gr
            t[f'p{i}.grad{s}'] = gr.float().clone()
        opt.step()
        for i, p in enumerate(params):
            t[f'p{i}.after{s}'] = p.detach().float().clone()

    # clip_grad_norm_: a case that clips (total norm > 1) and one that does not.
    for prefix, scale in (('clip', 1.0), ('clipnone', 0.05)):
        ps = [torch.nn.Parameter(torch.zeros(s, dtype=torch.float64)) for s in SHAPES]
        for i, p in enumerate(ps):
            p.grad = f32(torch.randn(p.shape, generator=g, dtype=torch.float64) * scale)
            t[f'{prefix}.g{i}'] = p.grad.float().clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm=MAX_NORM)
        t[f'{prefix}.total_norm'] = total.float().reshape(())
        for i, p in enumerate(ps):
            t[f'{prefix}.g{i}.clipped'] = p.grad.float().clone()
        print(f'{prefix}: total_norm {total.item():.6f}')

    meta = {'hparams': json.dumps({
        'lr': LR, 'betas': list(BETAS), 'eps': EPS, 'weight_decay': WD, 'steps': STEPS,
        'shapes': [list(s) for s in SHAPES],
        'lr_schedule': 'lr{s} = lr * (0.1 + 0.45 * (1 + cos(pi * s / steps))), s = 1..steps (stored as lr{s})',
        'optimizer': 'torch.optim.AdamW (decoupled weight decay p *= 1 - lr*wd, bias-corrected, eps outside sqrt), float64',
        'max_norm': MAX_NORM, 'clip': 'torch.nn.utils.clip_grad_norm_: coef = min(1, max_norm / (total_norm + 1e-6))',
    }, sort_keys=True)}
    path = os.path.join(args.out, 'adamw.safetensors')
    save_file(t, path, metadata=meta)
    print(f'{path}: {os.path.getsize(path)} bytes, {len(t)} tensors')


if __name__ == '__main__':
    main()
