// backward() semantics, as PyTorch's: it runs the graph of the loss it is called on and frees it.
// Two independent losses each get their gradients; a second backward() through a freed graph, or
// through tensors an inner scope already disposed, raises a clear error instead of silently
// leaving gradients out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scope, tensor, withBackend } from '../../src/core/index.js';
import * as ops from '../../src/ops/index.js';
import { jsBackend } from '../../src/backends/js/index.js';

const leaf = (v: number[]) => {
  const t = tensor(Float32Array.from(v), [v.length]).keep();
  t.requiresGrad = true;
  return t;
};

test('two losses built before either backward() both get their gradients', () => withBackend(jsBackend, () => scope(() => {
  const w = leaf([1, 2, 3]);
  const v = leaf([4, 5, 6]);
  const a = ops.sum(ops.mul(w, w)); // d/dw = 2w
  const b = ops.sum(ops.scale(v, 3)); // d/dv = 3
  a.backward();
  assert.deepEqual([...w.grad!.toArray()], [2, 4, 6]);
  assert.equal(v.grad, null, "a's backward does not touch b's graph");
  b.backward();
  assert.deepEqual([...v.grad!.toArray()], [3, 3, 3]);
})));

test('a second backward() through a freed graph is an error, not zero gradients', () => withBackend(jsBackend, () => scope(() => {
  const w = leaf([1, 2]);
  const h = ops.mul(w, w);
  const a = ops.sum(h);
  const b = ops.sum(ops.scale(h, 2)); // shares h with a
  a.backward();
  assert.throws(() => a.backward(), /already used by an earlier backward\(\) and freed/);
  assert.throws(() => b.backward(), /already used by an earlier backward\(\) and freed/);
  assert.deepEqual([...w.grad!.toArray()], [2, 4], 'the failed calls added nothing');
})));

test('backward() outside the scope that computed the loss is an error, not silently missing gradients', () => withBackend(jsBackend, () => {
  const w = leaf([1, 2]);
  const loss = scope(() => ops.sum(ops.mul(ops.scale(w, 2), w))); // the intermediate 2w is disposed with the scope
  assert.throws(() => loss.backward(), /holds tensors a scope has already disposed/);
  loss.dispose();
}));

test('nested scopes: backward() inside the outer scope reaches every gradient', () => withBackend(jsBackend, () => {
  const w = leaf([1, 2]);
  scope(() => {
    const h = scope(() => ops.scale(w, 3)); // returned: survives the inner scope
    ops.sum(ops.mul(h, w)).backward(); // d/dw (3w·w) = 6w
  });
  assert.deepEqual([...w.grad!.toArray()], [6, 12]);
}));
