// Softmax and log-softmax over rows, and the fused log-softmax + gather (cross-entropy's negative,
// DPO's per-token log-probabilities); the js backend's activation.ts. A workgroup per row.
import type { Runtime } from '../runtime.js';
import { kernel, put, NAN, REDUCE256 } from '../wgsl.js';
import { rowGrid } from './rows.js';

const ROW = `${REDUCE256}
${NAN}
fn rowLse(base: u32, C: u32, lid: u32) -> f32 {
  var m = -3.0e38;
  for (var c = lid; c < C; c += 256u) { m = max(m, x[base + c]); }
  m = reduceMax(m, lid);
  var s = 0.0;
  for (var c = lid; c < C; c += 256u) { s += exp(x[base + c] - m); }
  return m + log(reduceSum(s, lid));
}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32)`;

export function softmaxForward(rt: Runtime, out: number, x: number, N: number, C: number): void {
  const k = kernel('softmaxForward', 'N:u32 C:u32', 'out:f32:w x:f32:r', () => `${ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  let l = rowLse(base, p.C, lid);
  for (var c = lid; c < p.C; c += 256u) { out[base + c] = exp(x[base + c] - l); }
}`);
  rt.dispatch(k, [out, x], [N, C], rowGrid(N));
}

export function logSoftmaxForward(rt: Runtime, out: number, x: number, N: number, C: number): void {
  const k = kernel('logSoftmaxForward', 'N:u32 C:u32', 'out:f32:w x:f32:r', () => `${ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  let l = rowLse(base, p.C, lid);
  for (var c = lid; c < p.C; c += 256u) { out[base + c] = x[base + c] - l; }
}`);
  rt.dispatch(k, [out, x], [N, C], rowGrid(N));
}

const BACKWARD_ROW = `${REDUCE256}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32)`;

// dx (+)= out * (dout - sum(dout * out))
export function softmaxBackward(rt: Runtime, dx: number, dout: number, out: number, N: number, C: number, accumulate: boolean): void {
  const k = kernel('softmaxBackward', 'N:u32 C:u32 acc:u32', 'dx:f32:w dout:f32:r out:f32:r', () => `${BACKWARD_ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  var s = 0.0;
  for (var c = lid; c < p.C; c += 256u) { s += dout[base + c] * out[base + c]; }
  let dot = reduceSum(s, lid);
  for (var c = lid; c < p.C; c += 256u) { ${put('dx', 'base + c', 'out[base + c] * (dout[base + c] - dot)')} }
}`);
  rt.dispatch(k, [dx, dout, out], [N, C, accumulate ? 1 : 0], rowGrid(N));
}

// dx (+)= dout - exp(out) * sum(dout)
export function logSoftmaxBackward(rt: Runtime, dx: number, dout: number, out: number, N: number, C: number, accumulate: boolean): void {
  const k = kernel('logSoftmaxBackward', 'N:u32 C:u32 acc:u32', 'dx:f32:w dout:f32:r out:f32:r', () => `${BACKWARD_ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  var s = 0.0;
  for (var c = lid; c < p.C; c += 256u) { s += dout[base + c]; }
  let sum = reduceSum(s, lid);
  for (var c = lid; c < p.C; c += 256u) { ${put('dx', 'base + c', 'dout[base + c] - exp(out[base + c]) * sum')} }
}`);
  rt.dispatch(k, [dx, dout, out], [N, C, accumulate ? 1 : 0], rowGrid(N));
}

// out[i] = logits[i, t_i] - logsumexp(logits[i, :]), 0 where t_i == ignoreIndex, NaN for a target
// outside the vocabulary (the js backend throws there; a kernel can only poison the loss).
export function logprobGatherForward(rt: Runtime, out: number, lse: number, logits: number, targets: number, N: number, V: number, ignoreIndex: number): void {
  const k = kernel('logprobGatherForward', 'N:u32 C:u32 ignore:i32', 'out:f32:w lse:f32:w x:f32:r targets:i32:r', () => `${ROW} {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  let l = rowLse(base, p.C, lid);
  if (lid == 0u) {
    lse[row] = l;
    let t = targets[row];
    if (t == p.ignore) { out[row] = 0.0; }
    else if (t < 0 || u32(t) >= p.C) { out[row] = nan(); }
    else { out[row] = x[base + u32(t)] - l; }
  }
}`);
  rt.dispatch(k, [out, lse, logits, targets], [N, V, ignoreIndex], rowGrid(N));
}

// dlogits[i, :] (+)= dout[i] * (onehot(t_i) - softmax(logits[i, :])); ignored rows get nothing.
export function logprobGatherBackward(rt: Runtime, dlogits: number, dout: number, logits: number, lse: number, targets: number, N: number, V: number, ignoreIndex: number, accumulate: boolean): void {
  const k = kernel('logprobGatherBackward', 'N:u32 C:u32 ignore:i32 acc:u32', 'dx:f32:w dout:f32:r x:f32:r lse:f32:r targets:i32:r', () => `@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= p.N) { return; }
  let base = row * p.C;
  let t = targets[row];
  if (t == p.ignore) {
    if (p.acc == 0u) { for (var c = lid; c < p.C; c += 256u) { dx[base + c] = 0.0; } }
    return;
  }
  let g = dout[row];
  let l = lse[row];
  for (var c = lid; c < p.C; c += 256u) {
    var d = -g * exp(x[base + c] - l);
    if (i32(c) == t) { d += g; }
    ${put('dx', 'base + c', 'd')}
  }
}`);
  rt.dispatch(k, [dlogits, dout, logits, lse, targets], [N, V, ignoreIndex, accumulate ? 1 : 0], rowGrid(N));
}
