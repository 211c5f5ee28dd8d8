// SwiGLU, softmax and log-softmax over rows, and the fused log-softmax + gather that gives
// cross-entropy (its negative) and DPO's per-token log-probabilities.
import type { HostFBuf as FBuf, HostIBuf as IBuf } from '../backend.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// out = silu(gate) * up, silu(g) = g * sigmoid(g)
export function swigluForward(out: FBuf, gate: FBuf, up: FBuf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

export function swigluBackward(dgate: FBuf, dup: FBuf, dout: FBuf, gate: FBuf, up: FBuf, n: number, accGate: boolean, accUp: boolean): void {
  for (let i = 0; i < n; i++) {
    const s = sigmoid(gate[i]);
    const du = dout[i] * gate[i] * s;
    const dg = dout[i] * up[i] * s * (1 + gate[i] * (1 - s));
    dup[i] = accUp ? dup[i] + du : du;
    dgate[i] = accGate ? dgate[i] + dg : dg;
  }
}

function rowLogSumExp(x: FBuf, off: number, C: number): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) if (x[off + c] > max) max = x[off + c];
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(x[off + c] - max);
  return max + Math.log(sum);
}

export function softmaxForward(out: FBuf, x: FBuf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const l = rowLogSumExp(x, i * C, C);
    for (let c = 0; c < C; c++) out[i * C + c] = Math.exp(x[i * C + c] - l);
  }
}

export function softmaxBackward(dx: FBuf, dout: FBuf, out: FBuf, N: number, C: number, accumulate: boolean): void {
  for (let i = 0; i < N; i++) {
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[i * C + c] * out[i * C + c];
    for (let c = 0; c < C; c++) {
      const d = out[i * C + c] * (dout[i * C + c] - dot);
      dx[i * C + c] = accumulate ? dx[i * C + c] + d : d;
    }
  }
}

export function logSoftmaxForward(out: FBuf, x: FBuf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const l = rowLogSumExp(x, i * C, C);
    for (let c = 0; c < C; c++) out[i * C + c] = x[i * C + c] - l;
  }
}

export function logSoftmaxBackward(dx: FBuf, dout: FBuf, out: FBuf, N: number, C: number, accumulate: boolean): void {
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += dout[i * C + c];
    for (let c = 0; c < C; c++) {
      const d = dout[i * C + c] - Math.exp(out[i * C + c]) * sum;
      dx[i * C + c] = accumulate ? dx[i * C + c] + d : d;
    }
  }
}

export function logprobGatherForward(out: FBuf, lse: FBuf, logits: FBuf, targets: IBuf, N: number, V: number, ignoreIndex: number): void {
  for (let i = 0; i < N; i++) {
    const l = rowLogSumExp(logits, i * V, V);
    lse[i] = l;
    const t = targets[i];
    if (t === ignoreIndex) { out[i] = 0; continue; }
    if (t < 0 || t >= V) throw new Error(`target ${t} at row ${i} is outside the vocabulary (0..${V - 1})`);
    out[i] = logits[i * V + t] - l;
  }
}

// An ignored row gets no gradient: left as it is when accumulating, zeros when overwriting.
export function logprobGatherBackward(dlogits: FBuf, dout: FBuf, logits: FBuf, lse: FBuf, targets: IBuf, N: number, V: number, ignoreIndex: number, accumulate: boolean): void {
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    const row = i * V;
    if (t === ignoreIndex) {
      if (!accumulate) dlogits.fill(0, row, row + V);
      continue;
    }
    const g = dout[i];
    for (let c = 0; c < V; c++) {
      const d = -g * Math.exp(logits[row + c] - lse[i]);
      dlogits[row + c] = accumulate ? dlogits[row + c] + d : d;
    }
    dlogits[row + t] += g;
  }
}
