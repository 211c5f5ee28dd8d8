// Causal grouped-query attention, flash-style (the js backend's attention.ts): nothing of size
// Tq x Tk is ever stored. Layouts: q/out (B, Tq, H, D); k/v (B, Tcap, KVH, D), the first Tk
// positions valid; lse (B, H, Tq). Query i sits at absolute position Tk - Tq + i and sees keys
// 0 .. Tk - Tq + i; query head h reads kv head h / (H / KVH).
//
// Forward and dq: a thread per query, 64 queries of one (b, h) per workgroup, walking the keys in
// tiles staged in workgroup memory (online softmax in the forward). dk/dv: a thread per key, 64
// keys of one (b, kv head) per workgroup, walking the queries of every head in its group in tiles.
// A thread keeps its rows of D floats in registers, so the WGSL is generated per head dim.
import type { Runtime } from '../runtime.js';
import { elementwise, grid, kernel } from '../wgsl.js';

const WG = 64;
/** Keys (or queries) per tile: two tiles of D floats fit in 8 KiB of workgroup memory. */
const tile = (D: number): number => Math.max(1, Math.floor(1024 / D));
export const MAX_HEAD_DIM = 256;

const PARAMS = 'Tq:u32 Tk:u32 Tcap:u32 H:u32 KVH:u32 scale:f32 acc0:u32 acc1:u32 D:u32 T:u32';
// Loop bounds over the head dim (DL) and a tile (TL): constants where the driver compiles them into
// unrolled register code (a GPU), the same values read from the parameters on a software adapter,
// whose LLVM back end takes minutes to unroll these loops (lavapipe: 5 s at D = 24, minutes at 32).
const head = (D: number, T: number, rolled: boolean): string => `let b = wid.z;
  let off = p.Tk - p.Tq;
  let DL = ${rolled ? 'p.D' : `${D}u`};
  let TL = ${rolled ? 'p.T' : `${T}u`};`;

function forwardSource(D: number, rolled: boolean): string {
  const TK = tile(D);
  return `const D = ${D}u;
const TK = ${TK}u;
var<workgroup> Ks: array<f32, ${TK * D}>;
var<workgroup> Vs: array<f32, ${TK * D}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  ${head(D, TK, rolled)}
  let h = wid.y;
  let g = h / (p.H / p.KVH);
  let i = wid.x * ${WG}u + li;
  let valid = i < p.Tq;
  let last = off + i;
  let qo = ((b * p.Tq + i) * p.H + h) * D;
  var q: array<f32, ${D}>;
  var acc: array<f32, ${D}>;
  if (valid) { for (var d = 0u; d < DL; d++) { q[d] = qv[qo + d] * p.scale; acc[d] = 0.0; } }
  var m = -1.0e30;
  var l = 0.0;
  let kend = min(p.Tk, off + wid.x * ${WG}u + ${WG}u);
  for (var j0 = 0u; j0 < kend; j0 += TK) {
    for (var e = li; e < TK * D; e += ${WG}u) {
      let j = j0 + e / D;
      var kx = 0.0; var vx = 0.0;
      if (j < p.Tk) { let ko = ((b * p.Tcap + j) * p.KVH + g) * D + e % D; kx = kv[ko]; vx = vv[ko]; }
      Ks[e] = kx; Vs[e] = vx;
    }
    workgroupBarrier();
    if (valid && j0 <= last) {
      var s: array<f32, ${TK}>;
      var mt = m;
      for (var jj = 0u; jj < TL; jj++) {
        var dot = 0.0;
        for (var d = 0u; d < DL; d++) { dot += q[d] * Ks[jj * D + d]; }
        s[jj] = dot;
        if (j0 + jj <= last) { mt = max(mt, dot); }
      }
      let c = exp(m - mt);
      l *= c;
      for (var d = 0u; d < DL; d++) { acc[d] *= c; }
      m = mt;
      for (var jj = 0u; jj < TL; jj++) {
        if (j0 + jj > last) { break; }
        let pj = exp(s[jj] - m);
        l += pj;
        for (var d = 0u; d < DL; d++) { acc[d] += pj * Vs[jj * D + d]; }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var d = 0u; d < DL; d++) { out[qo + d] = acc[d] / l; }
    lse[(b * p.H + h) * p.Tq + i] = m + log(l);
  }
}`;
}

// dq_i (+)= scale * sum_j P_ij (dout_i . v_j - delta_i) k_j
function dqSource(D: number, rolled: boolean): string {
  const TK = tile(D);
  return `const D = ${D}u;
const TK = ${TK}u;
var<workgroup> Ks: array<f32, ${TK * D}>;
var<workgroup> Vs: array<f32, ${TK * D}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  ${head(D, TK, rolled)}
  let h = wid.y;
  let g = h / (p.H / p.KVH);
  let i = wid.x * ${WG}u + li;
  let valid = i < p.Tq;
  let last = off + i;
  let qo = ((b * p.Tq + i) * p.H + h) * D;
  var q: array<f32, ${D}>;
  var dO: array<f32, ${D}>;
  var dq: array<f32, ${D}>;
  var lse_i = 0.0;
  var delta_i = 0.0;
  if (valid) {
    for (var d = 0u; d < DL; d++) { q[d] = qv[qo + d]; dO[d] = dout[qo + d]; dq[d] = 0.0; }
    lse_i = lse[(b * p.H + h) * p.Tq + i];
    delta_i = delta[(b * p.H + h) * p.Tq + i];
  }
  let kend = min(p.Tk, off + wid.x * ${WG}u + ${WG}u);
  for (var j0 = 0u; j0 < kend; j0 += TK) {
    for (var e = li; e < TK * D; e += ${WG}u) {
      let j = j0 + e / D;
      var kx = 0.0; var vx = 0.0;
      if (j < p.Tk) { let ko = ((b * p.Tcap + j) * p.KVH + g) * D + e % D; kx = kv[ko]; vx = vv[ko]; }
      Ks[e] = kx; Vs[e] = vx;
    }
    workgroupBarrier();
    if (valid) {
      for (var jj = 0u; jj < TL; jj++) {
        if (j0 + jj > last) { break; }
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < DL; d++) { s += q[d] * Ks[jj * D + d]; dp += dO[d] * Vs[jj * D + d]; }
        let ds = exp(s * p.scale - lse_i) * (dp - delta_i);
        for (var d = 0u; d < DL; d++) { dq[d] += ds * Ks[jj * D + d]; }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var d = 0u; d < DL; d++) {
      if (p.acc0 != 0u) { dq_out[qo + d] += p.scale * dq[d]; } else { dq_out[qo + d] = p.scale * dq[d]; }
    }
  }
}`;
}

// dv_j (+)= sum_i P_ij dout_i;  dk_j (+)= scale * sum_i P_ij (dout_i . v_j - delta_i) q_i, over the
// queries of every head in the key's group. Positions Tk .. Tcap-1 get zeros when overwritten.
function dkvSource(D: number, rolled: boolean): string {
  const TQ = tile(D);
  return `const D = ${D}u;
const TQ = ${TQ}u;
var<workgroup> Qs: array<f32, ${TQ * D}>;
var<workgroup> Os: array<f32, ${TQ * D}>;
var<workgroup> Ls: array<f32, ${TQ}>;
var<workgroup> Ds: array<f32, ${TQ}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  ${head(D, TQ, rolled)}
  let g = wid.y;
  let rep = p.H / p.KVH;
  let j = wid.x * ${WG}u + li;
  let valid = j < p.Tk;
  let ko = ((b * p.Tcap + j) * p.KVH + g) * D;
  var k: array<f32, ${D}>;
  var v: array<f32, ${D}>;
  var dk: array<f32, ${D}>;
  var dv: array<f32, ${D}>;
  if (valid) { for (var d = 0u; d < DL; d++) { k[d] = kv[ko + d]; v[d] = vv[ko + d]; dk[d] = 0.0; dv[d] = 0.0; } }
  // the first query that sees any key of this workgroup
  let j0 = wid.x * ${WG}u;
  var istart = 0u;
  if (j0 > off) { istart = ((j0 - off) / TQ) * TQ; }
  for (var h = g * rep; h < (g + 1u) * rep; h++) {
    for (var i0 = istart; i0 < p.Tq; i0 += TQ) {
      for (var e = li; e < TQ * D; e += ${WG}u) {
        let i = i0 + e / D;
        var qx = 0.0; var ox = 0.0;
        if (i < p.Tq) { let qo = ((b * p.Tq + i) * p.H + h) * D + e % D; qx = qv[qo]; ox = dout[qo]; }
        Qs[e] = qx; Os[e] = ox;
      }
      for (var e = li; e < TQ; e += ${WG}u) {
        let i = i0 + e;
        var lx = 0.0; var dx = 0.0;
        if (i < p.Tq) { lx = lse[(b * p.H + h) * p.Tq + i]; dx = delta[(b * p.H + h) * p.Tq + i]; }
        Ls[e] = lx; Ds[e] = dx;
      }
      workgroupBarrier();
      if (valid) {
        for (var ii = 0u; ii < TL; ii++) {
          let i = i0 + ii;
          if (i >= p.Tq) { break; }
          if (off + i < j) { continue; }
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < DL; d++) { s += Qs[ii * D + d] * k[d]; dp += Os[ii * D + d] * v[d]; }
          let pj = exp(s * p.scale - Ls[ii]);
          let ds = pj * (dp - Ds[ii]);
          for (var d = 0u; d < DL; d++) { dv[d] += pj * Os[ii * D + d]; dk[d] += ds * Qs[ii * D + d]; }
        }
      }
      workgroupBarrier();
    }
  }
  if (j < p.Tcap) {
    for (var d = 0u; d < DL; d++) {
      var a = 0.0; var c = 0.0;
      if (valid) { a = p.scale * dk[d]; c = dv[d]; }
      if (p.acc0 != 0u) { dk_out[ko + d] += a; } else { dk_out[ko + d] = a; }
      if (p.acc1 != 0u) { dv_out[ko + d] += c; } else { dv_out[ko + d] = c; }
    }
  }
}`;
}

function checkHeadDim(D: number): void {
  if (!(Number.isInteger(D) && D >= 1 && D <= MAX_HEAD_DIM)) throw new Error(`attention: WebGPU kernels take head dims 1..${MAX_HEAD_DIM}, got ${D}`);
}

export function attentionForward(rt: Runtime, out: number, lse: number, q: number, k: number, v: number, B: number, Tq: number, Tk: number, Tcap: number, H: number, KVH: number, D: number, scale: number): void {
  checkHeadDim(D);
  const rolled = rt.summary.software;
  const def = kernel(`attentionForward_${D}_${+rolled}`, PARAMS, 'out:f32:w lse:f32:w qv:f32:r kv:f32:r vv:f32:r', () => forwardSource(D, rolled));
  rt.dispatch(def, [out, lse, q, k, v], [Tq, Tk, Tcap, H, KVH, scale, 0, 0, D, tile(D)], [Math.ceil(Tq / WG), H, B]);
}

export function attentionBackward(rt: Runtime, dq: number, dk: number, dv: number, dout: number, q: number, k: number, v: number, out: number, lse: number, B: number, Tq: number, Tk: number, Tcap: number, H: number, KVH: number, D: number, scale: number, accDq: boolean, accDk: boolean, accDv: boolean): void {
  checkHeadDim(D);
  // delta (B, H, Tq) = dout_i . out_i
  const n = B * Tq * H;
  const delta = rt.scratch(n);
  const kd = elementwise('attentionDelta', 'n:u32 Tq:u32 H:u32 D:u32', 'delta:f32:w dout:f32:r out:f32:r', `let row = i * p.D;   // i = (b * Tq + t) * H + h
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { s += dout[row + d] * out[row + d]; }
  let h = i % p.H;
  let t = (i / p.H) % p.Tq;
  let b = i / (p.H * p.Tq);
  delta[(b * p.H + h) * p.Tq + t] = s;`);
  rt.dispatch(kd, [delta, dout, out], [n, Tq, H, D], grid(n));
  const params = (a0: boolean, a1: boolean): number[] => [Tq, Tk, Tcap, H, KVH, scale, a0 ? 1 : 0, a1 ? 1 : 0, D, tile(D)];
  const rolled = rt.summary.software;
  const kq = kernel(`attentionDq_${D}_${+rolled}`, PARAMS, 'dq_out:f32:w dout:f32:r qv:f32:r kv:f32:r vv:f32:r lse:f32:r delta:f32:r', () => dqSource(D, rolled));
  rt.dispatch(kq, [dq, dout, q, k, v, lse, delta], params(accDq, false), [Math.ceil(Tq / WG), H, B]);
  const kkv = kernel(`attentionDkv_${D}_${+rolled}`, PARAMS, 'dk_out:f32:w dv_out:f32:w dout:f32:r qv:f32:r kv:f32:r vv:f32:r lse:f32:r delta:f32:r', () => dkvSource(D, rolled));
  rt.dispatch(kkv, [dk, dv, dout, q, k, v, lse, delta], params(accDk, accDv), [Math.ceil(Tcap / WG), KVH, B]);
}
