import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineLr } from '../../src/optim/index.js';

test('cosine lr goes from lr to lr/10 as MiniMind HEAD', () => {
  const o = { lr: 1e-3, totalSteps: 100 };
  assert.equal(cosineLr(0, o), 1e-3);
  assert.ok(Math.abs(cosineLr(50, o) - 1e-3 * 0.55) < 1e-12);
  assert.ok(Math.abs(cosineLr(100, o) - 1e-4) < 1e-12);
  // HEAD's formula lr*(0.1 + 0.45*(1+cos(pi t/T)))
  for (const t of [7, 33, 91]) assert.ok(Math.abs(cosineLr(t, o) - 1e-3 * (0.1 + 0.45 * (1 + Math.cos((Math.PI * t) / 100)))) < 1e-15);
});

test('warmup ramps linearly, floor is configurable', () => {
  const o = { lr: 1, totalSteps: 110, warmupSteps: 10, minRatio: 0 };
  assert.equal(cosineLr(0, o), 0.1);
  assert.equal(cosineLr(9, o), 1);
  assert.equal(cosineLr(10, o), 1);
  assert.ok(Math.abs(cosineLr(110, o)) < 1e-12);
});
