// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the gradients of
// all parameters are treated as one vector; when its norm exceeds maxNorm every gradient is
// scaled by maxNorm / (norm + 1e-6). The sum of squares is computed and applied on the parameters'
// backend, so clipping costs no host round trip; read it only when logging.
import { empty, type Tensor } from '../core/tensor.js';
import { fb } from '../ops/util.js';

/** Σg² over the parameters' gradients, as a [1] tensor on their backend (no host read); 0 when none has one. */
export function gradSumSq(params: readonly Tensor[]): Tensor {
  const withGrad = params.filter((p) => p.grad);
  const be = params[0].backend;
  const sumsq = empty([1], withGrad[0]?.grad!.dtype ?? 'float32', be);
  if (withGrad.length === 0) be.fill(sumsq.buf, 0, 1);
  if (be.sumSquaresMulti && withGrad.length > 1) be.sumSquaresMulti(fb(sumsq), withGrad.map((p) => fb(p.grad!)), withGrad.map((p) => p.grad!.size), false);
  else withGrad.forEach((p, i) => be.sumSquares(fb(sumsq), fb(p.grad!), p.grad!.size, i > 0));
  return sumsq;
}

/** Clips in place; returns the squared total norm before clipping, Σg², as a [1] tensor (no host read). */
export function clipGradNormSq_(params: readonly Tensor[], maxNorm: number): Tensor {
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) throw new Error('clipGradNorm: no parameter has a gradient');
  const sumsq = gradSumSq(withGrad);
  const be = withGrad[0].backend;
  if (be.clipScaleMulti && withGrad.length > 1) be.clipScaleMulti(withGrad.map((p) => fb(p.grad!)), withGrad.map((p) => p.grad!.size), fb(sumsq), maxNorm);
  else for (const p of withGrad) be.clipScale(fb(p.grad!), fb(sumsq), maxNorm, p.grad!.size);
  return sumsq;
}

/** Clips in place; returns the total norm before clipping (one host read; Infinity when a gradient is not finite). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const sumsq = clipGradNormSq_(params, maxNorm);
  const v = Math.sqrt(sumsq.item());
  sumsq.dispose();
  return v;
}
