// Row kernels: embedding lookup (also MoE's row gather), its scatter-add backward, per-row
// scaling (MoE gate weights), top-k and gather along the last axis (MoE routing).
import type { HostFBuf as FBuf, HostIBuf as IBuf } from '../backend.js';

// out (N, C) = weight[ids[i]]
export function embeddingForward(out: FBuf, ids: IBuf, weight: FBuf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const src = ids[i] * C;
    for (let c = 0; c < C; c++) out[i * C + c] = weight[src + c];
  }
}

// dweight[ids[i]] += dout[i]
export function embeddingBackward(dweight: FBuf, dout: FBuf, ids: IBuf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const dst = ids[i] * C;
    for (let c = 0; c < C; c++) dweight[dst + c] += dout[i * C + c];
  }
}

export function rowScaleForward(out: FBuf, x: FBuf, w: FBuf, N: number, C: number): void {
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) out[i * C + c] = x[i * C + c] * w[i];
}

export function rowScaleBackward(dx: FBuf, dw: FBuf, dout: FBuf, x: FBuf, w: FBuf, N: number, C: number, accDx: boolean, accDw: boolean): void {
  for (let i = 0; i < N; i++) {
    let dot = 0;
    for (let c = 0; c < C; c++) {
      const d = dout[i * C + c] * w[i];
      dx[i * C + c] = accDx ? dx[i * C + c] + d : d;
      dot += dout[i * C + c] * x[i * C + c];
    }
    dw[i] = accDw ? dw[i] + dot : dot;
  }
}

// The k largest entries of each row, in descending order; equal values keep the lower index first.
export function topk(values: FBuf, indices: IBuf, x: FBuf, N: number, C: number, k: number): void {
  for (let i = 0; i < N; i++) {
    const order = Array.from({ length: C }, (_, c) => c);
    order.sort((p, q) => x[i * C + q] - x[i * C + p] || p - q);
    for (let j = 0; j < k; j++) {
      indices[i * k + j] = order[j];
      values[i * k + j] = x[i * C + order[j]];
    }
  }
}

export function gatherForward(out: FBuf, x: FBuf, idx: IBuf, N: number, C: number, k: number): void {
  for (let i = 0; i < N; i++) for (let j = 0; j < k; j++) out[i * k + j] = x[i * C + idx[i * k + j]];
}

export function gatherBackward(dx: FBuf, dout: FBuf, idx: IBuf, N: number, C: number, k: number): void {
  for (let i = 0; i < N; i++) for (let j = 0; j < k; j++) dx[i * C + idx[i * k + j]] += dout[i * k + j];
}
