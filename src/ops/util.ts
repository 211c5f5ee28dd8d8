// Small helpers shared by the op files: typed views of a tensor's buffer and shape checks.
import type { FBuf, IBuf } from '../backends/backend.js';
import type { DType } from '../core/dtype.js';
import { empty, type Tensor } from '../core/tensor.js';
import '../core/autograd.js'; // installs Tensor.backward

/** The float buffer of t (throws for int tensors, naming the op). */
export function fb(t: Tensor, op = 'op'): FBuf {
  if (t.dtype === 'int32') throw new Error(`${op}: expected a float tensor, got int32 of shape [${t.shape.join(', ')}]`);
  return t.buf as FBuf;
}

/** The int32 buffer of t. */
export function ib(t: Tensor, op = 'op'): IBuf {
  if (t.dtype !== 'int32') throw new Error(`${op}: expected an int32 tensor, got ${t.dtype} of shape [${t.shape.join(', ')}]`);
  return t.buf as IBuf;
}

/** A new tensor on the same backend as `like`, its contents unspecified (Backend.alloc): for outputs a kernel overwrites. */
export function emptyLike(like: Tensor, shape: readonly number[] = like.shape, dtype: DType = like.dtype): Tensor {
  return empty(shape, dtype, like.backend);
}

export function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}

export function lastDim(t: Tensor): number {
  return t.shape[t.shape.length - 1];
}
