// Row kernels: embedding gather and its scatter-add, per-row scaling (MoE gate weights), top-k and
// gather along the last axis (MoE routing); the js backend's rows.ts. Scatter-adds use a float
// add by compare-and-swap, so rows that share an id add up (in an unspecified order).
import type { Runtime } from '../runtime.js';
import { atomicAddF, elementwise, grid, kernel, put, NAN, REDUCE256 } from '../wgsl.js';

// An id outside the table gives a NaN row (the js backend reads undefined there).
export function embeddingForward(rt: Runtime, out: number, ids: number, weight: number, N: number, C: number): void {
  const k = elementwise('embeddingForward', 'n:u32 C:u32 V:u32', 'out:f32:w ids:i32:r w:f32:r', `let row = i / p.C;
  let id = ids[row];
  if (id < 0 || u32(id) >= p.V) { out[i] = nan(); return; }
  out[i] = w[u32(id) * p.C + i % p.C];`, NAN);
  rt.dispatch(k, [out, ids, weight], [N * C, C, rowsOf(rt, weight, C)], grid(N * C));
}

export function embeddingBackward(rt: Runtime, dweight: number, dout: number, ids: number, N: number, C: number): void {
  const k = elementwise('embeddingBackward', 'n:u32 C:u32 V:u32', 'dw:u32:a dout:f32:r ids:i32:r', `let id = ids[i / p.C];
  if (id < 0 || u32(id) >= p.V) { return; }
  atomicAddF(u32(id) * p.C + i % p.C, dout[i]);`, atomicAddF('dw'));
  rt.dispatch(k, [dweight, dout, ids], [N * C, C, rowsOf(rt, dweight, C)], grid(N * C));
}

function rowsOf(rt: Runtime, buf: number, C: number): number {
  return Math.floor(rt.elems(buf) / Math.max(C, 1));
}

export function rowScaleForward(rt: Runtime, out: number, x: number, w: number, N: number, C: number): void {
  const k = elementwise('rowScaleForward', 'n:u32 C:u32', 'out:f32:w x:f32:r w:f32:r', 'out[i] = x[i] * w[i / p.C];');
  rt.dispatch(k, [out, x, w], [N * C, C], grid(N * C));
}

// A workgroup per row: dx elementwise, dw the row's dot product.
export function rowScaleBackward(rt: Runtime, dx: number, dw: number, dout: number, x: number, w: number, N: number, C: number, accDx: boolean, accDw: boolean): void {
  const k = kernel('rowScaleBackward', 'N:u32 C:u32 accDx:u32 accDw:u32', 'dx:f32:w dw:f32:w dout:f32:r x:f32:r w:f32:r', () => `${REDUCE256}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  var dot = 0.0;
  for (var c = lid; c < p.C; c += 256u) {
    let d = dout[base + c];
    ${put('dx', 'base + c', 'd * w[row]', 'p.accDx')}
    dot += d * x[base + c];
  }
  let t = reduceSum(dot, lid);
  if (lid == 0u) { ${put('dw', 'row', 't', 'p.accDw')} }
}`);
  rt.dispatch(k, [dx, dw, dout, x, w], [N, C, accDx ? 1 : 0, accDw ? 1 : 0], rowGrid(N));
}

/** One workgroup per row (x + y * 65535). */
export function rowGrid(N: number): [number, number] {
  return N <= 65535 ? [N, 1] : [65535, Math.ceil(N / 65535)];
}

// A thread per row: k passes, each taking the largest entry below the previous pick in the order
// (value descending, index ascending) — MoE rows are a few experts wide.
export function topk(rt: Runtime, values: number, indices: number, x: number, N: number, C: number, k: number): void {
  const def = elementwise('topk', 'n:u32 C:u32 k:u32', 'values:f32:w indices:i32:w x:f32:r', `let base = i * p.C;
  var pv = 0.0;
  var pi = -1;
  for (var j = 0u; j < p.k; j++) {
    var bv = 0.0;
    var bi = -1;
    for (var c = 0; c < i32(p.C); c++) {
      let v = x[base + u32(c)];
      // below the previous pick (or the first pass), and better than the best so far
      let after = pi < 0 || v < pv || (v == pv && c > pi);
      let better = bi < 0 || v > bv;
      if (after && better) { bv = v; bi = c; }
    }
    values[i * p.k + j] = bv;
    indices[i * p.k + j] = bi;
    pv = bv;
    pi = bi;
  }`);
  rt.dispatch(def, [values, indices, x], [N, C, k], grid(N));
}

export function gatherForward(rt: Runtime, out: number, x: number, idx: number, N: number, C: number, k: number): void {
  const def = elementwise('gatherForward', 'n:u32 C:u32 k:u32', 'out:f32:w x:f32:r idx:i32:r', 'out[i] = x[(i / p.k) * p.C + u32(idx[i])];');
  rt.dispatch(def, [out, x, idx], [N * k, C, k], grid(N * k));
}

export function gatherBackward(rt: Runtime, dx: number, dout: number, idx: number, N: number, C: number, k: number): void {
  const def = elementwise('gatherBackward', 'n:u32 C:u32 k:u32', 'dx:u32:a dout:f32:r idx:i32:r', 'atomicAddF((i / p.k) * p.C + u32(idx[i]), dout[i]);', atomicAddF('dx'));
  rt.dispatch(def, [dx, dout, idx], [N * k, C, k], grid(N * k));
}
