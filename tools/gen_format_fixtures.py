"""Writes the small files that test/formats checks the safetensors and .pth readers against:

  st-python.safetensors        every dtype written by Python safetensors, edge values, torch's own
                               f16/bf16 <-> f32 conversions and roundings to compare with ours
  pth-misc.pth                 torch.save of a training-checkpoint-like dict: state dict nested under
                               'model' with non-contiguous views, storage offsets, a shared storage,
                               stride-0 expand, bf16/f16/f32/f64/i64/i32/u8/i8/bool, plus optimizer
                               state, ints, floats, strings, None, tuples
  pth-misc-expected.safetensors  contiguous copies of every tensor of pth-misc.pth['model'] ('model.<name>')
                               and of the optimizer's exp_avg ('optimizer.exp_avg')
  pth-deflate.pth              v1-original.pth re-zipped with deflate compression (torch writes stored
                               entries; the reader supports both)
  pth-prefixed.pth             a state dict under 'state_dict' with 'module.' / '_orig_mod.' key prefixes

Usage: .venv/bin/python tools/gen_format_fixtures.py [--out test/fixtures]   (after gen_model_fixtures.py)
"""

import argparse
import collections
import os
import zipfile

import torch
from safetensors.torch import save_file


def st_python(out):
    g = torch.Generator().manual_seed(7)
    t = {}
    t['f32'] = torch.tensor([[1.5, -2.25, 3.0e-38], [float('inf'), -float('inf'), 0.0]], dtype=torch.float32)
    t['f32.rand'] = torch.randn(3, 5, 7, generator=g)
    t['f64'] = torch.tensor([1.0 / 3.0, -1e300, 5e-324], dtype=torch.float64)
    # f16 edge values: max, min normal, subnormals, -0, inf, nan, and ordinary numbers
    f16_vals = [65504.0, -65504.0, 6.103515625e-05, 5.960464477539063e-08, 3.0e-06, -0.0, 0.0, 1.0, -1.0,
                0.1, 3.14159, float('inf'), -float('inf'), float('nan')]
    t['f16'] = torch.tensor(f16_vals, dtype=torch.float16)
    t['f16.as_f32'] = t['f16'].float()
    bf_vals = [3.3895313892515355e+38, 1.1754943508222875e-38, 9.183549615799121e-41, -0.0, 1.0, -2.5, 0.1,
               float('inf'), -float('inf'), float('nan'), 1e-3]
    t['bf16'] = torch.tensor(bf_vals, dtype=torch.bfloat16)
    t['bf16.as_f32'] = t['bf16'].float()
    t['f16.rand'] = torch.randn(4, 9, generator=g).half()
    t['f16.rand.as_f32'] = t['f16.rand'].float()
    # rounding f32 -> f16 / bf16: random values over many magnitudes plus exact ties and overflow edges
    src = torch.cat([
        torch.randn(200, generator=g) * torch.pow(10.0, torch.randint(-9, 6, (200,), generator=g).float()),
        torch.tensor([65504.0, 65519.0, 65520.0, 70000.0, -65520.0,
                      1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11,       # f16 ties: to even (down), to even (up)
                      2.0 ** -25, 2.0 ** -25 * 1.5, 2.0 ** -24 * 1.5, 2.0 ** -26,   # f16 subnormal ties / underflow
                      1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,          # bf16 ties
                      3.4028234663852886e+38, 0.0, -0.0, float('inf'), float('nan')]),
    ]).float()
    t['round.src'] = src
    t['round.f16'] = src.half()
    t['round.bf16'] = src.bfloat16()
    t['i32'] = torch.tensor([0, 1, -1, 2147483647, -2147483648], dtype=torch.int32)
    t['i64'] = torch.tensor([0, -5, 2147483647, -2147483648, 123456789], dtype=torch.int64)
    t['i64.big'] = torch.tensor([1, 2 ** 40], dtype=torch.int64)
    t['u8'] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    t['i8'] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
    t['bool'] = torch.tensor([True, False, True], dtype=torch.bool)
    t['scalar'] = torch.tensor(2.5, dtype=torch.float32)
    t['empty'] = torch.zeros(2, 0, 3, dtype=torch.float32)
    t['odd.f16'] = torch.arange(3, dtype=torch.float16)   # 6 bytes: the next tensor's offset is not a multiple of 8
    path = os.path.join(out, 'st-python.safetensors')
    save_file(t, path, metadata={'format': 'pt', 'note': 'written by python safetensors', 'unicode': 'π ≈ 3.14'})
    print(f'{path}: {os.path.getsize(path)} bytes')


def pth_misc(out):
    g = torch.Generator().manual_seed(11)
    base = torch.randn(4, 6, generator=g)                 # one storage shared by three entries
    model = collections.OrderedDict()
    model['a.f32'] = base
    model['b.transposed'] = base.t()                      # strides (1, 6): non-contiguous
    model['c.slice'] = base[1:3, 2:5]                     # storage offset 8, strides (6, 1)
    model['d.bf16'] = torch.randn(3, 5, generator=g).bfloat16()
    model['e.f16'] = torch.randn(2, 3, 4, generator=g).half().permute(2, 0, 1)   # 3-d permuted view
    model['f.i64'] = torch.tensor([[1, -2, 3], [2 ** 33, 5, -6]], dtype=torch.int64)
    model['g.scalar'] = torch.tensor(7.25)
    model['h.expanded'] = torch.randn(3, 1, generator=g).expand(3, 4)   # stride 0
    model['i.bool'] = torch.tensor([True, False, False, True])
    model['j.f64'] = torch.randn(5, generator=g, dtype=torch.float64)[::2]   # step-2 slice
    model['k.i32'] = torch.tensor([1, -1, 100000], dtype=torch.int32)
    model['l.u8'] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    model['m.i8'] = torch.tensor([-100, 0, 100], dtype=torch.int8)
    model['n.empty'] = torch.zeros(0, 4)
    exp_avg = torch.randn(6, generator=g)
    ckpt = {
        'model': model,
        'optimizer': {'state': {0: {'step': torch.tensor(5.0), 'exp_avg': exp_avg}},
                      'param_groups': [{'lr': 1e-3, 'betas': (0.9, 0.999), 'eps': 1e-8, 'weight_decay': 0.01,
                                        'amsgrad': False, 'params': [0]}]},
        'epoch': 3, 'step': 120, 'world_size': 1, 'wandb_id': None, 'name': 'pretrain_768',
        'big': 2 ** 40, 'neg': -5, 'ratio': 0.5, 'flag': True,
    }
    path = os.path.join(out, 'pth-misc.pth')
    torch.save(ckpt, path)
    exp = {f'model.{k}': v.contiguous().clone() for k, v in model.items()}
    exp['optimizer.exp_avg'] = exp_avg.clone()
    epath = os.path.join(out, 'pth-misc-expected.safetensors')
    save_file(exp, epath)
    print(f'{path}: {os.path.getsize(path)} bytes; {epath}: {os.path.getsize(epath)} bytes')


def pth_deflate(out):
    src = os.path.join(out, 'v1-original.pth')
    dst = os.path.join(out, 'pth-deflate.pth')
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, zin.read(info.filename))
    print(f'{dst}: {os.path.getsize(dst)} bytes')


def pth_prefixed(out):
    """A state dict under 'state_dict' whose keys carry DDP / torch.compile prefixes, which readers strip."""
    sd = collections.OrderedDict()
    sd['module.x.weight'] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    sd['_orig_mod.y.weight'] = torch.arange(4, dtype=torch.float16)
    sd['module._orig_mod.z.weight'] = torch.tensor([1.5], dtype=torch.bfloat16)
    sd['num_batches_tracked'] = 3   # a non-tensor entry: dropped
    path = os.path.join(out, 'pth-prefixed.pth')
    torch.save({'state_dict': sd, 'epoch': 1}, path)
    print(f'{path}: {os.path.getsize(path)} bytes')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures'))
    args = ap.parse_args()
    st_python(args.out)
    pth_misc(args.out)
    pth_deflate(args.out)
    pth_prefixed(args.out)


if __name__ == '__main__':
    main()
