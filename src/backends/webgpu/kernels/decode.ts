// The fused batch-1 decode step (Backend.createDecoder): a dense model's token from embedding to
// logits as one batch of dispatches recorded in the worker, over buffers made once per decoder, so
// a token costs one message, one submit and one read of the logits. The same arithmetic as the
// generic path (src/model), in fewer kernels: q, k and v from one GEMV pass; RoPE writes k and v
// straight into the caches; attention over the cache in three passes (scores, softmax, weighted
// sum of v, each spread over heads x positions); gate and up in one GEMV with SwiGLU applied; the
// output and down projections add into the residual stream.
import type { Runtime } from '../runtime.js';
import { elementwise, grid, kernel, REDUCE256 } from '../wgsl.js';
import { matmul, gemvRowsSource, GEMV_ROWS } from './matmul.js';
import { rmsnormForward } from './norm.js';

/** Backend.FusedDecodeSpec with buffers as worker ids. */
export interface DecoderSpec {
  hidden: number; heads: number; kvHeads: number; headDim: number; ffn: number; vocab: number; capacity: number;
  interleaved: boolean; eps: number; embed: number; finalNorm: number; lmHead: number; cos: number; sin: number;
  layers: { inputNorm: number; wq: number; wk: number; wv: number; wo: number; qNorm: number | null; kNorm: number | null;
    postNorm: number; wGate: number; wUp: number; wDown: number; kCache: number; vCache: number }[];
}

export class Decoder {
  private readonly x: number;
  private readonly h: number;
  private readonly q: number;
  private readonly k: number;
  private readonly v: number;
  private readonly qr: number;
  private readonly att: number;
  private readonly scores: number;
  private readonly f: number;
  private readonly rstd: number;
  private readonly own: number[] = [];

  constructor(private readonly rt: Runtime, private readonly s: DecoderSpec, private readonly logits: number) {
    const { hidden: C, heads: H, kvHeads: KVH, headDim: D, ffn: F, capacity } = s;
    const make = (n: number): number => {
      const id = rt.privateId();
      rt.alloc(id, 'float32', n);
      this.own.push(id);
      return id;
    };
    this.x = make(C); this.h = make(C); this.q = make(H * D); this.k = make(KVH * D); this.v = make(KVH * D);
    this.qr = make(H * D); this.att = make(H * D); this.scores = make(H * capacity); this.f = make(F); this.rstd = make(Math.max(H, KVH, 1));
  }

  /** Records one token at position `pos` (its k/v written into the caches); the logits land in `logits`. */
  step(token: number, pos: number): void {
    const { rt, s } = this;
    const { hidden: C, heads: H, kvHeads: KVH, headDim: D, ffn: F, capacity, eps } = s;
    if (!(pos >= 0 && pos < capacity)) throw new Error(`decoder: position ${pos} is outside the KV cache of ${capacity} positions`);
    if (!(token >= 0 && token < s.vocab)) throw new Error(`decoder: token ${token} is outside the vocabulary (0..${s.vocab - 1})`);
    const embed = elementwise('decEmbed', 'n:u32 token:u32', 'out:f32:w w:f32:r', 'out[i] = w[p.token * p.n + i];');
    rt.dispatch(embed, [this.x, s.embed], [C, token], grid(C));
    for (const l of s.layers) {
      rmsnormForward(rt, this.h, this.rstd, this.x, l.inputNorm, 1, C, eps);
      // q, k, v: one GEMV pass over the three weights (rows of q, then k, then v)
      const nq = H * D, nkv = KVH * D;
      const qkv = kernel('decQkv', 'N:u32 K:u32 nq:u32 nkv:u32', 'q:f32:w k:f32:w v:f32:w a:f32:r wq:f32:r wk:f32:r wv:f32:r', () => qkvSource());
      rt.dispatch(qkv, [this.q, this.k, this.v, this.h, l.wq, l.wk, l.wv], [nq + 2 * nkv, C, nq, nkv], [Math.ceil((nq + 2 * nkv) / GEMV_ROWS)]);
      let q = this.q, k = this.k;
      if (l.qNorm !== null && l.kNorm !== null) {
        // QK-norm (minimind-3): RMSNorm over each head's D values; q goes through qr, k through h (free now)
        rmsnormForward(rt, this.att, this.rstd, this.q, l.qNorm, H, D, eps);
        rmsnormForward(rt, this.h, this.rstd, this.k, l.kNorm, KVH, D, eps);
        q = this.att;
        k = this.h;
      }
      const half = D / 2;
      const rope = elementwise('decRope', 'n:u32 H:u32 KVH:u32 half:u32 pos:u32 interleaved:u32', 'qr:f32:w kc:f32:w vc:f32:w q:f32:r k:f32:r v:f32:r cos:f32:r sin:f32:r', `let nq = p.H * p.half;
  let nk = p.KVH * p.half;
  let base = p.pos * p.KVH * p.half * 2u;     // this position's row of the caches
  if (i >= nq + nk) { let j = i - nq - nk; vc[base + j] = v[j]; return; }
  let pair = select(i - nq, i, i < nq);
  let pi = pair % p.half;
  let off = (pair / p.half) * p.half * 2u;
  var ia = off + pi;
  var ib = off + pi + p.half;
  if (p.interleaved != 0u) { ia = off + 2u * pi; ib = ia + 1u; }
  let c = cos[p.pos * p.half + pi];
  let s = sin[p.pos * p.half + pi];
  if (i < nq) { let a = q[ia]; let b = q[ib]; qr[ia] = a * c - b * s; qr[ib] = a * s + b * c; }
  else { let a = k[ia]; let b = k[ib]; kc[base + ia] = a * c - b * s; kc[base + ib] = a * s + b * c; }`);
      const nrope = (H + KVH) * half + nkv;
      rt.dispatch(rope, [this.qr, l.kCache, l.vCache, q, k, this.v, s.cos, s.sin], [nrope, H, KVH, half, pos, s.interleaved ? 1 : 0], grid(nrope));
      this.attention(l.kCache, l.vCache, pos);
      matmul(rt, this.x, this.att, l.wo, 1, C, nq, false, true, true);
      rmsnormForward(rt, this.h, this.rstd, this.x, l.postNorm, 1, C, eps);
      const gateUp = kernel('decGateUp', 'N:u32 K:u32', 'out:f32:w a:f32:r wg:f32:r wu:f32:r', () => gemvRowsSource(['wg', 'wu'], 'out[n] = t0 / (1.0 + exp(-t0)) * t1;'));
      rt.dispatch(gateUp, [this.f, this.h, l.wGate, l.wUp], [F, C], [Math.ceil(F / GEMV_ROWS)]);
      matmul(rt, this.x, this.f, l.wDown, 1, C, F, false, true, true);
    }
    rmsnormForward(rt, this.h, this.rstd, this.x, s.finalNorm, 1, C, eps);
    matmul(rt, this.logits, this.h, s.lmHead, 1, s.vocab, C, false, true, false);
  }

  // softmax(scale q.k_j) over positions 0..pos, times v: scores (H, capacity) in three passes
  private attention(kc: number, vc: number, pos: number): void {
    const { rt, s } = this;
    const { heads: H, kvHeads: KVH, headDim: D, capacity } = s;
    const T = pos + 1;
    const scale = 1 / Math.sqrt(D);
    const sc = elementwise('decScores', 'n:u32 T:u32 cap:u32 H:u32 KVH:u32 D:u32 scale:f32', 's:f32:w q:f32:r kc:f32:r', `let h = i / p.T;
  let j = i % p.T;
  let g = h / (p.H / p.KVH);
  var dot = 0.0;
  for (var d = 0u; d < p.D; d++) { dot += q[h * p.D + d] * kc[(j * p.KVH + g) * p.D + d]; }
  s[h * p.cap + j] = dot * p.scale;`);
    rt.dispatch(sc, [this.scores, this.qr, kc], [H * T, T, capacity, H, KVH, D, scale], grid(H * T));
    const sm = kernel('decSoftmax', 'T:u32 cap:u32', 's:f32:w', () => `${REDUCE256}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = wid.x * p.cap;
  var m = -3.0e38;
  for (var j = lid; j < p.T; j += 256u) { m = max(m, s[base + j]); }
  m = reduceMax(m, lid);
  var t = 0.0;
  for (var j = lid; j < p.T; j += 256u) { t += exp(s[base + j] - m); }
  let sum = reduceSum(t, lid);
  for (var j = lid; j < p.T; j += 256u) { s[base + j] = exp(s[base + j] - m) / sum; }
}`);
    rt.dispatch(sm, [this.scores], [T, capacity], [H]);
    const av = elementwise('decAttnV', 'n:u32 T:u32 cap:u32 H:u32 KVH:u32 D:u32', 'out:f32:w s:f32:r vc:f32:r', `let h = i / p.D;
  let d = i % p.D;
  let g = h / (p.H / p.KVH);
  var acc = 0.0;
  for (var j = 0u; j < p.T; j++) { acc += s[h * p.cap + j] * vc[(j * p.KVH + g) * p.D + d]; }
  out[i] = acc;`);
    rt.dispatch(av, [this.att, this.scores, vc], [H * D, T, capacity, H, KVH, D], grid(H * D));
  }

  dispose(): void {
    for (const id of this.own) this.rt.free(id);
  }
}

// rows 0..nq-1 of q, then nkv of k, then nkv of v: each group of 32 threads one row of one weight
function qkvSource(): string {
  return `var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wid.x * ${GEMV_ROWS}u + li / 32u;
  let lane = li % 32u;
  var s = 0.0;
  if (n < p.nq) { for (var k = lane; k < p.K; k += 32u) { s += a[k] * wq[n * p.K + k]; } }
  else if (n < p.nq + p.nkv) { let r = n - p.nq; for (var k = lane; k < p.K; k += 32u) { s += a[k] * wk[r * p.K + k]; } }
  else if (n < p.N) { let r = n - p.nq - p.nkv; for (var k = lane; k < p.K; k += 32u) { s += a[k] * wv[r * p.K + k]; } }
  part[li] = s;
  workgroupBarrier();
  for (var o = 16u; o > 0u; o >>= 1u) {
    if (lane < o) { part[li] += part[li + o]; }
    workgroupBarrier();
  }
  if (lane == 0u && n < p.N) {
    let t = part[li];
    if (n < p.nq) { q[n] = t; } else if (n < p.nq + p.nkv) { k[n - p.nq] = t; } else { v[n - p.nq - p.nkv] = t; }
  }
}`;
}
