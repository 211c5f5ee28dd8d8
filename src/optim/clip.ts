// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the gradients of
// all parameters are treated as one vector; when its norm exceeds maxNorm every gradient is
// scaled by maxNorm / (norm + 1e-6). The sum of squares is computed and applied on the parameters'
// backend, so clipping costs no host round trip; read it only when logging.
import { empty, type Tensor } from '../core/tensor.js';
import { fb } from '../ops/util.js';

/** Clips in place; returns the squared total norm before clipping, Σg², as a [1] tensor (no host read). */
export function clipGradNormSq_(params: readonly Tensor[], maxNorm: number): Tensor {
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) throw new Error('clipGradNorm: no parameter has a gradient');
  const be = withGrad[0].backend;
  const sumsq = empty([1], withGrad[0].grad!.dtype, be);
  withGrad.forEach((p, i) => be.sumSquares(fb(sumsq), fb(p.grad!), p.grad!.size, i > 0));
  for (const p of withGrad) be.clipScale(fb(p.grad!), fb(sumsq), maxNorm, p.grad!.size);
  return sumsq;
}

/** Clips in place; returns the total norm before clipping (one host read; Infinity when a gradient is not finite). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const sumsq = clipGradNormSq_(params, maxNorm);
  const v = Math.sqrt(sumsq.item());
  sumsq.dispose();
  return v;
}
