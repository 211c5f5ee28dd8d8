// Op results against hand-computed cases (float32, js backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/backends/js/index.js';
import { setBackend } from '../../src/core/device.js';
import { tensor } from '../../src/core/tensor.js';
import { noGrad } from '../../src/core/autograd.js';
import * as ops from '../../src/ops/index.js';

setBackend(jsBackend);
const close = (a: ArrayLike<number>, b: number[], tol = 1e-5) => {
  assert.equal(a.length, b.length, 'length');
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('matmul and linear', () => {
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
  close(ops.matmul(a, b).toArray(), [4, 5, 10, 11]);
  const w = tensor([1, 0, 0, 1, 1, 1], [2, 3]); // (out 2, in 3)
  close(ops.linear(a, w).toArray(), [1, 6, 4, 15]); // rows of w: [1,0,0] and [1,1,1]
  close(ops.matmul(a, a, false, true).toArray(), [14, 32, 32, 77]);
});

test('rmsNorm', () => {
  const x = tensor([3, 4], [1, 2]);
  const w = tensor([1, 2]);
  const r = 1 / Math.sqrt((9 + 16) / 2 + 1e-5);
  close(ops.rmsNorm(x, w, 1e-5).toArray(), [3 * r, 8 * r]);
});

test('rope rotates pairs by pos * theta^(-2i/D)', () => {
  const { cos, sin } = ops.ropeTables(4, 4, 100);
  const c = tensor(cos, [4, 2]);
  const s = tensor(sin, [4, 2]);
  // one token at position 2, one head, D = 4: frequencies 1 and 1/10
  const x = tensor([1, 2, 3, 4], [1, 1, 1, 4]);
  const a0 = 2, a1 = 0.2;
  // interleaved pairs (1,2) and (3,4)
  close(ops.rope(x, c, s, 2, true).toArray(), [
    1 * Math.cos(a0) - 2 * Math.sin(a0), 1 * Math.sin(a0) + 2 * Math.cos(a0),
    3 * Math.cos(a1) - 4 * Math.sin(a1), 3 * Math.sin(a1) + 4 * Math.cos(a1),
  ]);
  // rotate-half pairs (1,3) and (2,4)
  close(ops.rope(x, c, s, 2, false).toArray(), [
    1 * Math.cos(a0) - 3 * Math.sin(a0), 2 * Math.cos(a1) - 4 * Math.sin(a1),
    1 * Math.sin(a0) + 3 * Math.cos(a0), 2 * Math.sin(a1) + 4 * Math.cos(a1),
  ]);
});

test('attention: first query sees only itself; uniform scores average values', () => {
  const q = tensor([0, 0, 0, 0], [1, 2, 1, 2]); // zero queries -> uniform weights over visible keys
  const k = tensor([1, 2, 3, 4], [1, 2, 1, 2]);
  const v = tensor([10, 20, 30, 40], [1, 2, 1, 2]);
  close(ops.attention(q, k, v).toArray(), [10, 20, 20, 30]);
});

test('attention with two query heads sharing one kv head (GQA)', () => {
  const q = tensor([0, 0, 100, 0], [1, 1, 2, 2]);
  const k = tensor([1, 0], [1, 1, 1, 2]);
  const v = tensor([5, 7], [1, 1, 1, 2]);
  close(ops.attention(q, k, v).toArray(), [5, 7, 5, 7]);
});

test('swiglu, softmax, logSoftmax', () => {
  const g = tensor([0, 1, -1]);
  const u = tensor([2, 3, 4]);
  const silu = (x: number) => x / (1 + Math.exp(-x));
  close(ops.swiglu(g, u).toArray(), [0, 3 * silu(1), 4 * silu(-1)]);
  const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
  close(ops.softmax(tensor([1, 2, 3], [1, 3])).toArray(), [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z]);
  close(ops.logSoftmax(tensor([1, 2, 3], [1, 3])).toArray(), [1 - Math.log(z), 2 - Math.log(z), 3 - Math.log(z)]);
});

test('crossEntropy: mean over non-ignored targets, and loss-mask weighting', () => {
  const logits = tensor([0, 0, 0, 0, Math.log(3), 0], [2, 3]);
  const t = tensor(Int32Array.from([1, 1]), [2]);
  const l0 = Math.log(3), l1 = -Math.log(3 / 5);
  close(ops.crossEntropy(logits, t).toArray(), [(l0 + l1) / 2]);
  const ignored = tensor(Int32Array.from([-100, 1]), [2]);
  close(ops.crossEntropy(logits, ignored).toArray(), [l1]);
  close(ops.crossEntropy(logits, t, { mask: Float32Array.from([0, 1]) }).toArray(), [l1]);
});

test('sum, mean, permute, slice, concat, topk, gather', () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  close(ops.sum(x).toArray(), [21]);
  close(ops.sum(x, 0).toArray(), [5, 7, 9]);
  close(ops.mean(x, 1).toArray(), [2, 5]);
  close(ops.transpose(x, 0, 1).toArray(), [1, 4, 2, 5, 3, 6]);
  close(ops.slice(x, 1, 1, 2).toArray(), [2, 3, 5, 6]);
  close(ops.concat([x, x], 0).toArray(), [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
  const { values, indices } = ops.topk(tensor([0.1, 0.5, 0.5, 0.2], [1, 4]), 2);
  close(values.toArray(), [0.5, 0.5]);
  assert.deepEqual(Array.from(indices.toArray()), [1, 2]);
  close(ops.gather(x, tensor(Int32Array.from([2, 0, 1, 1]), [2, 2])).toArray(), [3, 1, 5, 5]);
});

test('embedding rejects out-of-vocabulary ids with a clear message', () => {
  const w = tensor(new Float32Array(6), [3, 2]);
  assert.throws(() => ops.embedding(tensor(Int32Array.from([1, 3]), [2]), w), /token id 3 at position 1 is outside the vocabulary \(0\.\.2\)/);
});

test('noGrad records nothing', () => {
  const w = tensor([1, 2]);
  w.requiresGrad = true;
  const y = noGrad(() => ops.mul(w, w));
  assert.equal(y.requiresGrad, false);
  assert.throws(() => ops.sum(y).backward(), /does not require grad/);
});
