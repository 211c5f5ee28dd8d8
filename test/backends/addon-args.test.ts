// The native addon checks its arguments before touching memory: a bad op id, a shape or axis
// list that is not a permutation, too-short buffers and out-of-range indices throw a RangeError-
// like message naming the function and the argument, instead of reading or writing out of bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { addonPath } from '../../src/backends/cpu/index.js';

const path = addonPath();
const skip = existsSync(path) ? false : `native backend not built (${path})`;
type Fn = (...args: unknown[]) => unknown;

test('native addon: bad arguments throw a message naming the function and argument', { skip }, () => {
  const K = createRequire(import.meta.url)(path) as Record<string, Fn>;
  const f = (n: number) => new Float32Array(n);
  const cases: [string, () => unknown, RegExp][] = [
    ['unknown unary op', () => K.unaryForward(9, f(4), f(4), 4), /unaryForward: argument 0 is not a unary op id/],
    ['unknown unary op (backward)', () => K.unaryBackward(5, f(4), f(4), f(4), f(4), 4), /unaryBackward: argument 0 is not a unary op id/],
    ['negative op id', () => K.unaryForward(-1, f(4), f(4), 4), /argument 0 must be a non-negative integer/],
    ['repeated permute axis', () => K.permute(f(6), f(6), [2, 3], [0, 0], false), /permute: argument 3 is not a permutation/],
    ['permute axis beyond the rank', () => K.permute(f(6), f(6), [2, 3], [0, 2], false), /argument 3 holds an axis outside the rank/],
    ['fractional permute size', () => K.permute(f(6), f(6), [2.5, 3], [1, 0], false), /argument 2 holds a size that is not a non-negative integer/],
    ['non-numeric permute entries', () => K.permute(f(6), f(6), ['a', 3], [1, 0], false), /argument 2/],
    ['short output buffer', () => K.mul(f(3), f(4), f(4), 4), /mul: argument 0 has 3 elements, needs 4/],
    ['wrong buffer type', () => K.mul(new Float64Array(4), f(4), f(4), 4), /argument 0 must be a Float32Array/],
    ['embedding index out of range', () => K.embeddingForward(f(4), Int32Array.from([0, 7]), f(8), 2, 2), /embeddingForward: argument 1 holds index 7/],
    ['missing argument', () => K.mul(f(4), f(4)), /mul: argument 3 is missing/],
  ];
  for (const [what, call, want] of cases) assert.throws(call, want, what);
  // and the same calls with good arguments work
  const out = f(6);
  K.permute(out, Float32Array.from([0, 1, 2, 3, 4, 5]), [2, 3], [1, 0], false);
  assert.deepEqual([...out], [0, 3, 1, 4, 2, 5]);
});
