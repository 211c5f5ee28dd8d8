// RMSNorm and rotary embedding (the js backend's norm.ts and rope.ts).
import type { Runtime } from '../runtime.js';
import { elementwise, grid, kernel, put, REDUCE256 } from '../wgsl.js';
import { rowGrid } from './rows.js';

const ROW = '@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32)';

// A workgroup per row: out = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps).
export function rmsnormForward(rt: Runtime, out: number, rstd: number, x: number, w: number, N: number, C: number, eps: number): void {
  const k = kernel('rmsnormForward', 'N:u32 C:u32 eps:f32', 'out:f32:w rstd:f32:w x:f32:r w:f32:r', () => `${REDUCE256}
${ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  var ss = 0.0;
  for (var c = lid; c < p.C; c += 256u) { let v = x[base + c]; ss += v * v; }
  let r = 1.0 / sqrt(reduceSum(ss, lid) / f32(p.C) + p.eps);
  if (lid == 0u) { rstd[row] = r; }
  for (var c = lid; c < p.C; c += 256u) { out[base + c] = x[base + c] * r * w[c]; }
}`);
  rt.dispatch(k, [out, rstd, x, w], [N, C, eps], rowGrid(N));
}

// dx (+)= r * (dout*w - xhat * mean(dout*w*xhat)) a row per workgroup; dw (+)= sum over rows of
// dout * xhat in two passes: partial sums over chunks of rows, then one sum per column.
const CHUNK_ROWS = 64;
export function rmsnormBackward(rt: Runtime, dx: number, dw: number, dout: number, x: number, w: number, rstd: number, N: number, C: number, accDx: boolean, accDw: boolean): void {
  const kdx = kernel('rmsnormBackwardDx', 'N:u32 C:u32 acc:u32', 'dx:f32:w dout:f32:r x:f32:r w:f32:r rstd:f32:r', () => `${REDUCE256}
${ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  let r = rstd[row];
  var dot = 0.0;
  for (var c = lid; c < p.C; c += 256u) { dot += dout[base + c] * w[c] * x[base + c]; }
  let m = reduceSum(dot, lid) * r / f32(p.C);
  for (var c = lid; c < p.C; c += 256u) { ${put('dx', 'base + c', 'r * (dout[base + c] * w[c] - x[base + c] * r * m)')} }
}`);
  rt.dispatch(kdx, [dx, dout, x, w, rstd], [N, C, accDx ? 1 : 0], rowGrid(N));
  const chunks = Math.max(1, Math.ceil(N / CHUNK_ROWS));
  const part = rt.scratch(chunks * C);
  const kpart = elementwise('rmsnormDwPartial', 'n:u32 C:u32 N:u32 rows:u32', 'part:f32:w dout:f32:r x:f32:r rstd:f32:r', `let c = i % p.C;
  let chunk = i / p.C;
  var s = 0.0;
  for (var row = chunk * p.rows; row < min(p.N, (chunk + 1u) * p.rows); row++) { s += dout[row * p.C + c] * x[row * p.C + c] * rstd[row]; }
  part[i] = s;`);
  rt.dispatch(kpart, [part, dout, x, rstd], [chunks * C, C, N, CHUNK_ROWS], grid(chunks * C));
  const ksum = elementwise('rmsnormDwSum', 'n:u32 chunks:u32 acc:u32', 'dw:f32:w part:f32:r', `var s = 0.0;
  for (var j = 0u; j < p.chunks; j++) { s += part[j * p.n + i]; }
  ${put('dw', 'i', 's')}`);
  rt.dispatch(ksum, [dw, part], [C, chunks, accDw ? 1 : 0], grid(C));
}

// A thread per rotated pair of x (B, T, H, D); backward rotates by the opposite angle (sign -1).
function rotate(rt: Runtime, out: number, x: number, cos: number, sin: number, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean, sign: number, accumulate: boolean): void {
  const half = D / 2;
  const n = B * T * H * half;
  const k = elementwise('rope', 'n:u32 T:u32 H:u32 half:u32 pos0:u32 interleaved:u32 sign:f32 acc:u32', 'out:f32:w x:f32:r cos:f32:r sin:f32:r', `let pi = i % p.half;
  let head = i / p.half;               // (b * T + t) * H + h
  let t = (head / p.H) % p.T;
  let base = head * p.half * 2u;
  var ia = base + pi;
  var ib = base + pi + p.half;
  if (p.interleaved != 0u) { ia = base + 2u * pi; ib = ia + 1u; }
  let row = (p.pos0 + t) * p.half + pi;
  let c = cos[row];
  let s = p.sign * sin[row];
  let a = x[ia];
  let b = x[ib];
  ${put('out', 'ia', 'a * c - b * s')}
  ${put('out', 'ib', 'a * s + b * c')}`);
  rt.dispatch(k, [out, x, cos, sin], [n, T, H, half, pos0, interleaved ? 1 : 0, sign, accumulate ? 1 : 0], grid(n));
}

export function ropeForward(rt: Runtime, out: number, x: number, cos: number, sin: number, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean): void {
  rotate(rt, out, x, cos, sin, B, T, H, D, pos0, interleaved, 1, false);
}

export function ropeBackward(rt: Runtime, dx: number, dout: number, cos: number, sin: number, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean, accumulate: boolean): void {
  rotate(rt, dx, dout, cos, sin, B, T, H, D, pos0, interleaved, -1, accumulate);
}
