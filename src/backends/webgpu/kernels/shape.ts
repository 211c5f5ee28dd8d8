// Data movement: permutation, slices along one axis, sums along one axis and their broadcast
// backward (the js backend's shape.ts). Permute and slices move 32-bit words, so they serve
// float32 and int32 alike; accumulating adds the words as floats.
import type { Runtime } from '../runtime.js';
import { elementwise, grid, put } from '../wgsl.js';

const RANK = 6;
const ACC_WORD = (dst: string, idx: string, src: string): string =>
  `if (p.acc != 0u) { ${dst}[${idx}] = bitcast<u32>(bitcast<f32>(${dst}[${idx}]) + bitcast<f32>(${src})); } else { ${dst}[${idx}] = ${src}; }`;

// out[o] = x[src(o)]: o's coordinates in out's shape (padded in front to rank 6), each times the
// input stride of the axis it came from.
export function permute(rt: Runtime, out: number, x: number, shape: readonly number[], perm: readonly number[], accumulate: boolean): void {
  const rank = shape.length;
  if (rank > RANK) throw new Error(`permute: at most ${RANK} dimensions on WebGPU, got ${rank}`);
  const inStrides: number[] = new Array(rank);
  let n = 1;
  for (let d = rank - 1; d >= 0; d--) { inStrides[d] = n; n *= shape[d]; }
  const dims = [...new Array(RANK - rank).fill(1), ...perm.map((p) => shape[p])];
  const strides = [...new Array(RANK - rank).fill(0), ...perm.map((p) => inStrides[p])];
  const names = Array.from({ length: RANK }, (_, a) => a);
  const k = elementwise('permute', `n:u32 acc:u32 ${names.map((a) => `d${a}:u32`).join(' ')} ${names.map((a) => `s${a}:u32`).join(' ')}`, 'out:u32:w x:u32:r', `var o = i;
  var src = 0u;
  ${names.reverse().map((a) => `src += (o % p.d${a}) * p.s${a}; o /= p.d${a};`).join('\n  ')}
  ${ACC_WORD('out', 'i', 'x[src]')}`);
  rt.dispatch(k, [out, x], [n, accumulate ? 1 : 0, ...dims, ...strides], grid(n));
}

// out (outer, len, inner) (+)= x (outer, dimIn, inner)[:, start:start+len, :]
export function sliceCopy(rt: Runtime, out: number, x: number, outer: number, dimIn: number, inner: number, start: number, len: number, accumulate: boolean): void {
  const n = outer * len * inner;
  const k = elementwise('sliceCopy', 'n:u32 acc:u32 dim:u32 inner:u32 start:u32 len:u32', 'out:u32:w x:u32:r', `let o = i / (p.len * p.inner);
  let j = i % (p.len * p.inner);
  ${ACC_WORD('out', 'i', 'x[(o * p.dim + p.start) * p.inner + j]')}`);
  rt.dispatch(k, [out, x], [n, accumulate ? 1 : 0, dimIn, inner, start, len], grid(n));
}

// out (outer, dimOut, inner)[:, start:start+len, :] (+)= x (outer, len, inner)
export function sliceScatter(rt: Runtime, out: number, x: number, outer: number, dimOut: number, inner: number, start: number, len: number, accumulate: boolean): void {
  const n = outer * len * inner;
  const k = elementwise('sliceScatter', 'n:u32 acc:u32 dim:u32 inner:u32 start:u32 len:u32', 'out:u32:w x:u32:r', `let o = i / (p.len * p.inner);
  let j = i % (p.len * p.inner);
  let dst = (o * p.dim + p.start) * p.inner + j;
  ${ACC_WORD('out', 'dst', 'x[i]')}`);
  rt.dispatch(k, [out, x], [n, accumulate ? 1 : 0, dimOut, inner, start, len], grid(n));
}

// A thread per output (o, i) walks the middle axis.
export function sumAxis(rt: Runtime, out: number, x: number, outer: number, dim: number, inner: number): void {
  const k = elementwise('sumAxis', 'n:u32 dim:u32 inner:u32', 'out:f32:w x:f32:r', `let o = i / p.inner;
  let base = o * p.dim * p.inner + i % p.inner;
  var s = 0.0;
  for (var d = 0u; d < p.dim; d++) { s += x[base + d * p.inner]; }
  out[i] = s;`);
  rt.dispatch(k, [out, x], [outer * inner, dim, inner], grid(outer * inner));
}

export function sumAxisBackward(rt: Runtime, dx: number, dout: number, outer: number, dim: number, inner: number, accumulate: boolean): void {
  const n = outer * dim * inner;
  const k = elementwise('sumAxisBackward', 'n:u32 dim:u32 inner:u32 acc:u32', 'dx:f32:w dout:f32:r', `let o = i / (p.dim * p.inner);
  ${put('dx', 'i', 'dout[o * p.inner + i % p.inner]')}`);
  rt.dispatch(k, [dx, dout], [n, dim, inner, accumulate ? 1 : 0], grid(n));
}
