// Shape ops that move data: permute/transpose, slice along an axis, concat along an axis.
// (reshape is a view: Tensor.reshape.)
import { record, gradOf, gradOut } from '../core/autograd.js';
import type { Tensor } from '../core/tensor.js';
import { emptyLike } from './util.js';
import { readFloat32 } from './precision.js';

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.shape.length;
  if (perm.length !== rank || [...perm].sort().some((p, i) => p !== i)) throw new Error(`permute: [${perm.join(', ')}] is not a permutation of ${rank} axes`);
  const out = emptyLike(x, perm.map((p) => x.shape[p]));
  x.backend.permute(out.buf, x.buf, x.shape, perm, false);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(out, [x], (g) => {
    const dx = gradOut(x);
    x.backend.permute(dx.grad.buf, g.buf, out.shape, inverse, dx.accumulate);
  });
}

/** Swaps two axes. */
export function transpose(x: Tensor, a: number, b: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = x.shape.length;
  const [i, j] = [a < 0 ? a + r : a, b < 0 ? b + r : b];
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

function axisSplit(shape: readonly number[], axis: number): { a: number; outer: number; dim: number; inner: number } {
  const a = axis < 0 ? axis + shape.length : axis;
  if (a < 0 || a >= shape.length) throw new Error(`axis ${axis} out of range for shape [${shape.join(', ')}]`);
  return {
    a,
    outer: shape.slice(0, a).reduce((p, d) => p * d, 1),
    dim: shape[a],
    inner: shape.slice(a + 1).reduce((p, d) => p * d, 1),
  };
}

/** x[..., start:start+len, ...] along `axis` (a copy). */
export function slice(x: Tensor, axis: number, start: number, len: number): Tensor {
  const { a, outer, dim, inner } = axisSplit(x.shape, axis);
  if (start < 0 || len < 0 || start + len > dim) throw new Error(`slice: [${start}, ${start + len}) is outside axis ${axis} of size ${dim}`);
  const shape = [...x.shape];
  shape[a] = len;
  const out = emptyLike(x, shape);
  x.backend.sliceCopy(out.buf, x.buf, outer, dim, inner, start, len, false);
  // the slice's gradient covers part of x's: the rest must be zeros
  return record(out, [x], (g) => x.backend.sliceScatter(gradOf(x).buf, g.buf, outer, dim, inner, start, len, true));
}

/** Concatenates along `axis`; every other axis must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: nothing to concatenate');
  const first = xs[0];
  const { a } = axisSplit(first.shape, axis);
  for (const x of xs) {
    if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`concat: shape [${x.shape.join(', ')}] does not match [${first.shape.join(', ')}] outside axis ${axis}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
  const out = emptyLike(first, shape);
  const { outer, dim, inner } = axisSplit(shape, a);
  let start = 0;
  const starts = xs.map((x) => {
    const s = start;
    // (a bf16 input, an MoE expert's output, is read through a copy freed at once: concat's backward does not read inputs)
    readFloat32(x, (buf) => first.backend.sliceScatter(out.buf, buf, outer, dim, inner, s, x.shape[a], false));
    start += x.shape[a];
    return s;
  });
  return record(out, xs, (g) => {
    xs.forEach((x, i) => {
      if (!x.requiresGrad) return;
      const dx = gradOut(x);
      x.backend.sliceCopy(dx.grad.buf, g.buf, outer, dim, inner, starts[i], x.shape[a], dx.accumulate);
    });
  });
}
