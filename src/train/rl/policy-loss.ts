// The bridge from the host-side RL losses (losses.ts) to autograd: one node whose input is the
// (R, T) tensor of per-token log-probs. Its forward reads those log-probs to the host (R·T
// numbers, tiny next to the (R, T, V) logits they came from), evaluates the loss and its exact
// per-token gradient there, and its backward scales that gradient by the upstream one. min,
// clamp and stop-gradient never need device kernels this way.
import { gradOf, record } from '../../core/autograd.js';
import { tensor, type Tensor } from '../../core/tensor.js';

export interface HostLoss {
  loss: number;
  /** d loss / d x, one entry per element of x. */
  grad: ArrayLike<number>;
}

/** A scalar tensor = f(x) where f is evaluated on the host together with its gradient. */
export function hostLoss<R extends HostLoss>(x: Tensor, f: (values: Float64Array) => R): { loss: Tensor; result: R } {
  const values = Float64Array.from(x.toArray() as ArrayLike<number>);
  const result = f(values);
  if (result.grad.length !== x.size) throw new Error(`hostLoss: gradient has ${result.grad.length} entries for ${x.size} values`);
  const isF64 = x.dtype === 'float64';
  const out = tensor(isF64 ? Float64Array.of(result.loss) : Float32Array.of(result.loss), [1], x.dtype, x.backend);
  const loss = record(out, [x], (g) => {
    const scale = g.item();
    const gradHost = isF64 ? new Float64Array(x.size) : new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) gradHost[i] = result.grad[i] * scale;
    const gt = tensor(gradHost, x.shape, x.dtype, x.backend);
    // gradients accumulate (+=), as every backward kernel does
    x.backend.axpy(gradOf(x).buf as Float32Array, gt.buf as Float32Array, 1, x.size);
    gt.dispose();
  });
  return { loss, result };
}
