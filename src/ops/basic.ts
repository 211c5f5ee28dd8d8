// Cheap differentiable ops that compose: add, mul, affine (scale/shift), unary functions, sums.
import type { UnaryOp } from '../backends/backend.js';
import { record, gradOut, flowGradient, addGradient } from '../core/autograd.js';
import type { Tensor } from '../core/tensor.js';
import { emptyLike, fb, sameShape } from './util.js';
import { anyBuf } from './precision.js';

export function add(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'add');
  const out = emptyLike(a);
  a.backend.add(fb(out), anyBuf(a, 'add'), anyBuf(b, 'add'), a.size); // (a bf16 input: a float32 sum)
  return record(out, [a, b], (g) => {
    const shared = a.requiresGrad && flowGradient(a, g, true);
    if (b.requiresGrad) flowGradient(b, g, !shared);
  });
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return add(a, affine(b, -1, 0));
}

export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'mul');
  const out = emptyLike(a);
  const be = a.backend;
  be.mul(fb(out), fb(a, 'mul'), fb(b, 'mul'), a.size);
  return record(out, [a, b], (g) => {
    if (a.requiresGrad) mulGradient(a, g, b);
    if (b.requiresGrad) mulGradient(b, g, a);
  });
}

// x's gradient (+)= g * other: the product itself as a first write, else added via a temporary.
function mulGradient(x: Tensor, g: Tensor, other: Tensor): void {
  const be = x.backend;
  const { grad, accumulate } = gradOut(x);
  if (!accumulate) return be.mul(fb(grad), fb(g), fb(other), x.size);
  const tmp = emptyLike(x);
  be.mul(fb(tmp), fb(g), fb(other), x.size);
  be.axpy(fb(grad), fb(tmp), 1, x.size);
  tmp.dispose();
}

/** alpha * x + beta */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  const out = emptyLike(x);
  x.backend.affine(fb(out), fb(x, 'affine'), alpha, beta, x.size);
  return record(out, [x], (g) => addGradient(x, g, alpha));
}

export function scale(x: Tensor, alpha: number): Tensor {
  return affine(x, alpha, 0);
}

export function neg(x: Tensor): Tensor {
  return affine(x, -1, 0);
}

export function unary(op: UnaryOp, x: Tensor): Tensor {
  const out = emptyLike(x);
  x.backend.unaryForward(op, fb(out), fb(x, op), x.size);
  return record(out, [x], (g) => {
    const { grad, accumulate } = gradOut(x);
    x.backend.unaryBackward(op, fb(grad), fb(g), fb(x), fb(out), x.size, accumulate);
  });
}

export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const silu = (x: Tensor): Tensor => unary('silu', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const logSigmoid = (x: Tensor): Tensor => unary('logsigmoid', x);

/**
 * Sum over one axis (dropping it), or over everything when axis is undefined (a scalar of
 * shape [1]). Negative axes count from the end.
 */
export function sum(x: Tensor, axis?: number): Tensor {
  const rank = x.shape.length;
  let outer = 1, dim = x.size, inner = 1;
  let outShape: number[] = [1];
  if (axis !== undefined) {
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) throw new Error(`sum: axis ${axis} out of range for shape [${x.shape.join(', ')}]`);
    outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
    dim = x.shape[a];
    inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
    outShape = [...x.shape.slice(0, a), ...x.shape.slice(a + 1)];
    if (outShape.length === 0) outShape = [1];
  }
  const out = emptyLike(x, outShape);
  x.backend.sumAxis(fb(out), fb(x, 'sum'), outer, dim, inner);
  return record(out, [x], (g) => {
    const { grad, accumulate } = gradOut(x);
    x.backend.sumAxisBackward(fb(grad), fb(g), outer, dim, inner, accumulate);
  });
}

export function mean(x: Tensor, axis?: number): Tensor {
  const n = axis === undefined ? x.size : x.shape[axis < 0 ? axis + x.shape.length : axis];
  return scale(sum(x, axis), 1 / n);
}
