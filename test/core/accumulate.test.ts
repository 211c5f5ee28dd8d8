// Gradient accumulation: backward kernels add into .grad, so two half-batches with the loss
// scaled by 1/2 give the gradient of the full batch — what the trainer's --accumulation relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { setBackend } from '../../src/core/device.js';
import { tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { Rng } from '../../src/core/random.js';
import { Linear } from '../../src/nn/index.js';
import * as ops from '../../src/ops/index.js';

test('two accumulated half-batches equal one full batch', () => {
  setBackend(jsBackend);
  const rng = new Rng(3);
  const lin = new Linear(6, 4, { rng, std: 0.5 });
  const xs = Float32Array.from({ length: 8 * 6 }, () => rng.normal());
  const ys = Int32Array.from([0, 1, 2, 3, 3, 2, 1, 0]);
  const lossOn = (from: number, to: number, weight: number) =>
    scope(() => {
      const x = tensor(xs.slice(from * 6, to * 6), [to - from, 6]);
      const y = tensor(ys.slice(from, to), [to - from], 'int32');
      ops.scale(ops.crossEntropy(lin.forward(x), y), weight).backward();
    });
  lossOn(0, 8, 1);
  const full = Float32Array.from(lin.weight.grad!.toArray());
  jsBackend.fill(lin.weight.grad!.buf, 0, lin.weight.size);
  lossOn(0, 4, 0.5);
  lossOn(4, 8, 0.5);
  const acc = lin.weight.grad!.toArray();
  for (let i = 0; i < full.length; i++) assert.ok(Math.abs(full[i] - acc[i]) < 1e-6, `grad ${i}: ${full[i]} vs ${acc[i]}`);
  assert.ok(full.some((v) => Math.abs(v) > 1e-3), 'gradient is trivially zero');
});
