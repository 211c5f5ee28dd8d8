// bf16 activations, as PyTorch autocast stores them. Under bf16 GEMM precision on a backend that
// stores bf16 (CUDA), a linear writes its output in bf16, and the ops that keep their input's
// dtype (RMSNorm, RoPE, SwiGLU, attention) read bf16 and write bf16 in turn, so a transformer
// block's projections, rotated heads, attention output and MLP product live in half the bytes and
// are never rounded a second time. Residual sums (add) and losses read bf16 and stay float32.
// Any other op reading such a tensor gets its float32 copy, made on demand (Tensor.buf).
//
// Gradients follow (autocast's backward): the gradient of a bf16 tensor is written in bf16 by the
// kernels below, and read in bf16 by the next ones (GEMM operands need no rounding pass); a second
// contribution to a gradient first makes it float32 (core/autograd.ts gradOut), so sums are float32.
//
// The kernels that take either precision: matmul (operands, output), add (inputs), rmsnorm (x,
// out; backward dout, dx), rope (x, out; backward dout, dx), swiglu (gate, up, out; backward dout,
// dgate, dup), attention (q, k, v, out; backward dout), logprobGather (logits; backward dlogits).
// MINIMIND_BF16_ACTIVATIONS=0 keeps float32 activations (bf16 GEMM operands only).
import type { Backend, FBuf } from '../backends/backend.js';
import { emptyLowPrecision, type Tensor } from '../core/tensor.js';
import { emptyLike, fb } from './util.js';
import { process } from '../io/process.js';

const disabled = process.env.MINIMIND_BF16_ACTIVATIONS === '0';

/** Whether outputs of linear() on this backend are stored in bf16 now. */
export function lowPrecisionActivations(be: Backend): boolean {
  return !disabled && be.allocLowPrecision !== undefined && be.matmulPrecision?.() === 'bf16';
}

/** Whether t is stored in bf16 (its float32 copy, if an op made one, holds the same values). */
export function isLowPrecision(t: Tensor): boolean {
  return t.storage.bf16;
}

/** An output of `like`'s backend: bf16 when `lowp` (and the backend stores bf16 now), else float32. */
export function outputLike(like: Tensor, lowp: boolean, shape: readonly number[] = like.shape): Tensor {
  return lowp && lowPrecisionActivations(like.backend) ? emptyLowPrecision(shape, like.backend) : emptyLike(like, shape);
}

/** t's buffer for a kernel that reads either precision: the bf16 one when t is stored in bf16. */
export function anyBuf(t: Tensor, op = 'op'): FBuf {
  if (isLowPrecision(t)) {
    if (t.isDisposed || !t.storage.lowp) throw new Error(`${op}: use of a disposed tensor of shape [${t.shape.join(', ')}]`);
    return t.storage.lowp as FBuf;
  }
  return fb(t, op);
}

/**
 * Runs read(buf) with t's float32 buffer. A bf16 t without one gets a copy that is freed right
 * after, not kept with t: for ops that read an input once and never again (concat's forward), so a
 * transient copy does not stay alive until the end of the step.
 */
export function readFloat32<R>(t: Tensor, read: (buf: FBuf) => R): R {
  if (!isLowPrecision(t) || t.storage.buf || !t.backend.fromLowPrecision) return read(fb(t));
  const copy = t.backend.fromLowPrecision(t.storage.lowp as FBuf, t.size);
  try {
    return read(copy);
  } finally {
    t.backend.free(copy);
  }
}
