// AdamW as torch.optim.AdamW (decoupled weight decay, bias correction by step t >= 1):
//   p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
import type { HostFBuf as FBuf } from '../backend.js';

// A non-finite guard[0] skips the step (see Backend.adamwStep).
export function adamwStep(param: FBuf, grad: FBuf, m: FBuf, v: FBuf, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, guard: FBuf | null): void {
  if (guard && !Number.isFinite(guard[0])) return;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    param[i] *= 1 - lr * weightDecay;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    param[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / bc2Sqrt + eps);
  }
}
