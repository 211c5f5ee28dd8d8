// Causal grouped-query attention, the definition. For each batch b, query head h (kv head
// g = h / (H/KVH)) and query i (absolute position p = Tk - Tq + i):
//   s_j = scale * q_i . k_j  for j <= p;  P = softmax(s);  out_i = sum_j P_j v_j;  lse_i = logsumexp(s)
// Backward recomputes P from lse (as flash attention does):
//   dP_j = dout_i . v_j;  dS_j = P_j (dP_j - dout_i . out_i);
//   dq_i += scale sum_j dS_j k_j;  dk_j += scale dS_j q_i;  dv_j += P_j dout_i
// Layouts: q/out (B, Tq, H, D); k/v (B, Tcap, KVH, D) with the first Tk positions valid; lse (B, H, Tq).
import type { HostFBuf as FBuf } from '../backend.js';

export function attentionForward(out: FBuf, lse: FBuf, q: FBuf, k: FBuf, v: FBuf, B: number, Tq: number, Tk: number, Tcap: number, H: number, KVH: number, D: number, scale: number): void {
  const rep = H / KVH;
  const s = new Float64Array(Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / rep);
      for (let i = 0; i < Tq; i++) {
        const qo = ((b * Tq + i) * H + h) * D;
        const last = Tk - Tq + i;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          const ko = ((b * Tcap + j) * KVH + g) * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
          s[j] = dot * scale;
          if (s[j] > max) max = s[j];
        }
        let sum = 0;
        for (let j = 0; j <= last; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
        for (let d = 0; d < D; d++) out[qo + d] = 0;
        for (let j = 0; j <= last; j++) {
          const p = s[j] / sum;
          const vo = ((b * Tcap + j) * KVH + g) * D;
          for (let d = 0; d < D; d++) out[qo + d] += p * v[vo + d];
        }
        lse[(b * H + h) * Tq + i] = max + Math.log(sum);
      }
    }
  }
}

export function attentionBackward(dq: FBuf, dk: FBuf, dv: FBuf, dout: FBuf, q: FBuf, k: FBuf, v: FBuf, out: FBuf, lse: FBuf, B: number, Tq: number, Tk: number, Tcap: number, H: number, KVH: number, D: number, scale: number, accDq: boolean, accDk: boolean, accDv: boolean): void {
  // the sums below add into their outputs: an overwritten output starts from zeros
  if (!accDq) dq.fill(0, 0, B * Tq * H * D);
  if (!accDk) dk.fill(0, 0, B * Tcap * KVH * D);
  if (!accDv) dv.fill(0, 0, B * Tcap * KVH * D);
  const rep = H / KVH;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / rep);
      for (let i = 0; i < Tq; i++) {
        const qo = ((b * Tq + i) * H + h) * D;
        const last = Tk - Tq + i;
        const l = lse[(b * H + h) * Tq + i];
        let di = 0;
        for (let d = 0; d < D; d++) di += dout[qo + d] * out[qo + d];
        for (let j = 0; j <= last; j++) {
          const ko = ((b * Tcap + j) * KVH + g) * D;
          let dot = 0;
          let dp = 0;
          for (let d = 0; d < D; d++) { dot += q[qo + d] * k[ko + d]; dp += dout[qo + d] * v[ko + d]; }
          const p = Math.exp(dot * scale - l);
          const ds = p * (dp - di);
          for (let d = 0; d < D; d++) {
            dq[qo + d] += scale * ds * k[ko + d];
            dk[ko + d] += scale * ds * q[qo + d];
            dv[ko + d] += p * dout[qo + d];
          }
        }
      }
    }
  }
}
