// Elementwise kernels and unary activations. n = element count.
import type { HostBuf as Buf, HostFBuf as FBuf, UnaryOp } from '../backend.js';

export function fill(out: Buf, value: number, n: number): void {
  out.fill(value, 0, n);
}

export function copy(out: Buf, x: Buf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i];
}

export function add(out: FBuf, a: FBuf, b: FBuf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

export function mul(out: FBuf, a: FBuf, b: FBuf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
}

export function affine(out: FBuf, x: FBuf, alpha: number, beta: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] = alpha * x[i] + beta;
}

export function axpy(out: FBuf, x: FBuf, alpha: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] += alpha * x[i];
}

export function sumSquares(out: FBuf, x: FBuf, n: number, accumulate: boolean): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  out[0] = accumulate ? out[0] + s : s;
}

export function clipScale(x: FBuf, sumsq: FBuf, maxNorm: number, n: number): void {
  const coef = maxNorm / (Math.sqrt(sumsq[0]) + 1e-6);
  if (coef >= 1) return;
  for (let i = 0; i < n; i++) x[i] *= coef;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
// log(sigmoid(x)) = -softplus(-x), written to stay finite for large |x|.
const logSigmoid = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));

export function unaryForward(op: UnaryOp, out: FBuf, x: FBuf, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    switch (op) {
      case 'exp': out[i] = Math.exp(v); break;
      case 'log': out[i] = Math.log(v); break;
      case 'silu': out[i] = v * sigmoid(v); break;
      case 'sigmoid': out[i] = sigmoid(v); break;
      case 'logsigmoid': out[i] = logSigmoid(v); break;
    }
  }
}

export function unaryBackward(op: UnaryOp, dx: FBuf, dout: FBuf, x: FBuf, out: FBuf, n: number, accumulate: boolean): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    let d: number;
    switch (op) {
      case 'exp': d = out[i]; break;
      case 'log': d = 1 / v; break;
      case 'silu': { const s = sigmoid(v); d = s * (1 + v * (1 - s)); break; }
      case 'sigmoid': d = out[i] * (1 - out[i]); break;
      case 'logsigmoid': d = sigmoid(-v); break;
    }
    dx[i] = accumulate ? dx[i] + dout[i] * d : dout[i] * d;
  }
}
