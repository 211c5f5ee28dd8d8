// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the gradients of
// all parameters are treated as one vector; when its norm exceeds maxNorm every gradient is
// scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
import type { FBuf } from '../backends/backend.js';
import type { Tensor } from '../core/tensor.js';

export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) if (p.grad) sq += p.backend.sumSquares(p.grad.buf as FBuf, p.grad.size);
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const p of params) if (p.grad) p.backend.affine(p.grad.buf as FBuf, p.grad.buf as FBuf, coef, 0, p.grad.size);
  }
  return norm;
}
