// First write overwrites (core/autograd.ts): gradients are not zero-filled before their first
// contribution, and zeroGrad() keeps buffers whose old values must never leak into the next step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { setBackend } from '../../src/core/device.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { MiniMindForCausalLM } from '../../src/model/model.js';
import { presetConfig } from '../../src/model/presets.js';
import { AdamW } from '../../src/optim/index.js';
import * as ops from '../../src/ops/index.js';

setBackend(jsBackend);
const B = 2, T = 8;

function batch(seed: number): { ids: Tensor; labels: Tensor } {
  const a = Int32Array.from({ length: B * T }, (_, i) => (i * 37 + seed * 101) % 500);
  return { ids: tensor(a, [B, T], 'int32'), labels: tensor(a, [B, T], 'int32') };
}
const backward = (m: MiniMindForCausalLM, seed: number) => scope(() => {
  const { ids, labels } = batch(seed);
  m.loss(ids, labels).loss.backward();
});
const grads = (m: MiniMindForCausalLM) => m.namedParameters().map(([n, p]) => [n, p.grad ? Float32Array.from(p.grad.toArray()) : null] as const);

test('zeroGrad keeps the buffers but no old value reaches the next gradient', () => {
  const fresh = new MiniMindForCausalLM(presetConfig('tiny'), { seed: 5 });
  backward(fresh, 2);
  const want = grads(fresh);
  const reused = new MiniMindForCausalLM(presetConfig('tiny'), { seed: 5 });
  const opt = new AdamW(reused.parameters());
  backward(reused, 1);
  const buffers = reused.parameters().map((p) => p.grad!.buf);
  opt.zeroGrad();
  assert.ok(reused.parameters().every((p) => p.grad === null), 'zeroGrad forgets the gradients');
  backward(reused, 2);
  const got = grads(reused);
  want.forEach(([name, w], i) => assert.deepEqual(got[i][1], w, `${name}: same gradient as a fresh model`));
  reused.parameters().forEach((p, i) => assert.equal(p.grad!.buf, buffers[i], 'the kept buffer is reused'));
});

test('without zeroGrad, a second backward adds to the gradients', () => {
  const one = new MiniMindForCausalLM(presetConfig('tiny'), { seed: 5 });
  backward(one, 1);
  const g1 = grads(one);
  one.parameters().forEach((p) => p.zeroGrad());
  backward(one, 2);
  const g2 = grads(one);
  const both = new MiniMindForCausalLM(presetConfig('tiny'), { seed: 5 });
  backward(both, 1);
  backward(both, 2);
  // float32 sums in another order: a missing or doubled contribution would be off by ~100 %
  grads(both).forEach(([name, g], i) => {
    for (let j = 0; j < g!.length; j++) {
      const want = g1[i][1]![j] + g2[i][1]![j];
      assert.ok(Math.abs(g![j] - want) <= 1e-5 * (Math.abs(want) + 1e-3), `${name}[${j}]: ${g![j]} vs ${want}`);
    }
  });
});

test('a training step zero-fills no gradient buffer (every first contribution overwrites, attention\'s too)', () => {
  const model = new MiniMindForCausalLM(presetConfig('tiny'), { seed: 5 });
  const opt = new AdamW(model.parameters());
  const step = () => {
    backward(model, 3);
    opt.step();
    opt.zeroGrad();
  };
  step();
  const sizes: number[] = [];
  const fill = jsBackend.fill;
  jsBackend.fill = (out, value, n) => {
    if (value === 0) sizes.push(n);
    fill(out, value, n);
  };
  try {
    step();
  } finally {
    jsBackend.fill = fill;
  }
  // not even the embedding (tied to lm_head, whose GEMM writes first); a kernel that sums into an
  // overwritten output (the js and CPU attention backward) starts it from zeros itself, not through fill
  assert.deepEqual(sizes, []);
});

test('AdamW skips a parameter that got no gradient since zeroGrad (PyTorch set_to_none)', () => {
  const model = new MiniMindForCausalLM(presetConfig('tiny'), { seed: 5 });
  const extra = tensor(Float32Array.of(1, 2, 3), [3]).keep();
  extra.requiresGrad = true;
  const opt = new AdamW([...model.parameters(), extra], { lr: 0.1, weightDecay: 0.5 });
  scope(() => ops.sum(ops.mul(extra, extra)).backward());
  opt.step();
  const after = Float32Array.from(extra.toArray());
  opt.zeroGrad();
  backward(model, 1); // extra takes no part
  opt.step();
  assert.deepEqual(Float32Array.from(extra.toArray()), after);
});
