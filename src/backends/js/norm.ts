// RMSNorm: y = x * rsqrt(mean(x^2) + eps) * w over rows of C (MiniMind, all versions).
import type { HostFBuf as FBuf } from '../backend.js';

export function rmsnormForward(out: FBuf, rstd: FBuf, x: FBuf, w: FBuf, N: number, C: number, eps: number): void {
  for (let i = 0; i < N; i++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[i * C + c] * x[i * C + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[i] = r;
    for (let c = 0; c < C; c++) out[i * C + c] = x[i * C + c] * r * w[c];
  }
}

// With xhat = x * r:  dw += dout * xhat;  dx += r * (dout*w - xhat * mean(dout*w*xhat)).
// accDx / accDw false: overwrite dx / dw instead of adding.
export function rmsnormBackward(dx: FBuf, dw: FBuf, dout: FBuf, x: FBuf, w: FBuf, rstd: FBuf, N: number, C: number, accDx: boolean, accDw: boolean): void {
  if (!accDw) dw.fill(0, 0, C);
  for (let i = 0; i < N; i++) {
    const r = rstd[i];
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[i * C + c] * w[c] * x[i * C + c] * r;
    const m = dot / C;
    for (let c = 0; c < C; c++) {
      const xhat = x[i * C + c] * r;
      dw[c] += dout[i * C + c] * xhat;
      const d = r * (dout[i * C + c] * w[c] - xhat * m);
      dx[i * C + c] = accDx ? dx[i * C + c] + d : d;
    }
  }
}
