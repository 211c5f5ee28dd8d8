// AdamW and global-norm clipping against torch.optim.AdamW / clip_grad_norm_
// (test/fixtures/adamw.safetensors, written by tools/gen_adamw_fixture.py in float64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { getBackend, setBackend } from '../../src/core/device.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { readSafetensors, toFloat32 } from '../../src/formats/safetensors.js';
import { AdamW, clipGradNorm } from '../../src/optim/index.js';

const { tensors, metadata } = readSafetensors('test/fixtures/adamw.safetensors');
const get = (name: string) => {
  const t = tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
};
const f64 = (name: string) => Float64Array.from(toFloat32(get(name)));

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0, scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / Math.max(scale, 1e-30);
}

function param(name: string, dtype: 'float32' | 'float64'): Tensor {
  const t = get(name);
  const p = tensor(dtype === 'float64' ? f64(name) : Float32Array.from(toFloat32(t)), t.shape, dtype, jsBackend).keep();
  p.requiresGrad = true;
  return p;
}

for (const dtype of ['float64', 'float32'] as const) {
  test(`AdamW matches torch.optim.AdamW over 6 steps (${dtype})`, () => {
    const hp = JSON.parse(metadata.hparams);
    const params = [0, 1, 2].map((i) => param(`p${i}.init`, dtype));
    const opt = new AdamW(params, { betas: hp.betas, eps: hp.eps, weightDecay: hp.weight_decay });
    const tol = dtype === 'float64' ? 1e-6 : 2e-5; // the fixture stores float32 copies of float64 values
    for (let s = 1; s <= 6; s++) {
      params.forEach((p, i) => {
        p.grad?.dispose();
        p.grad = tensor(dtype === 'float64' ? f64(`p${i}.grad${s}`) : toFloat32(get(`p${i}.grad${s}`)), p.shape, dtype, jsBackend).keep();
      });
      opt.lr = toFloat32(get(`lr${s}`))[0];
      opt.step();
      params.forEach((p, i) => {
        const err = maxRelErr(p.toArray(), toFloat32(get(`p${i}.after${s}`)));
        assert.ok(err < tol, `step ${s} param ${i}: relative error ${err}`);
      });
    }
  });
}

for (const prefix of ['clip', 'clipnone']) {
  test(`clipGradNorm matches clip_grad_norm_ (${prefix})`, () => {
    const prev = getBackend();
    setBackend(jsBackend);
    const params = [0, 1, 2].map((i) => {
      const g = get(`${prefix}.g${i}`);
      const p = tensor(new Float64Array(g.data.length), g.shape, 'float64', jsBackend);
      p.grad = tensor(f64(`${prefix}.g${i}`), g.shape, 'float64', jsBackend);
      return p;
    });
    const norm = clipGradNorm(params, 1.0);
    assert.ok(Math.abs(norm - toFloat32(get(`${prefix}.total_norm`))[0]) < 1e-5, `total norm ${norm}`);
    params.forEach((p, i) => assert.ok(maxRelErr(p.grad!.toArray(), toFloat32(get(`${prefix}.g${i}.clipped`))) < 1e-6, `grad ${i}`));
    setBackend(prev);
  });
}
