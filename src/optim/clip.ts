// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the gradients of
// all parameters are treated as one vector; when its norm exceeds maxNorm every gradient is
// scaled by maxNorm / (norm + 1e-6). The norm is computed and applied on the parameters' backend,
// so clipping costs no host round trip; read the returned norm (a [1] tensor) only when logging.
import { empty, type Tensor } from '../core/tensor.js';
import { affine } from '../ops/basic.js';
import { noGrad } from '../core/autograd.js';
import { fb } from '../ops/util.js';

/** Clips in place; returns the total norm before clipping as a one-element tensor (no host read). */
export function clipGradNorm_(params: readonly Tensor[], maxNorm: number): Tensor {
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) throw new Error('clipGradNorm: no parameter has a gradient');
  const be = withGrad[0].backend;
  const sumsq = empty([1], withGrad[0].grad!.dtype, be);
  withGrad.forEach((p, i) => be.sumSquares(fb(sumsq), fb(p.grad!), p.grad!.size, i > 0));
  for (const p of withGrad) be.clipScale(fb(p.grad!), fb(sumsq), maxNorm, p.grad!.size);
  const norm = noGrad(() => affine(sumsq, 1, 0));
  be.unaryForward('log', fb(norm), fb(sumsq), 1);  // sqrt(s) = exp(0.5 * log(s)): no sqrt kernel needed
  be.affine(fb(norm), fb(norm), 0.5, 0, 1);
  be.unaryForward('exp', fb(norm), fb(norm), 1);
  sumsq.dispose();
  return norm;
}

/** Clips in place; returns the total norm before clipping (one host read). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const norm = clipGradNorm_(params, maxNorm);
  const v = norm.item();
  norm.dispose();
  return v;
}
