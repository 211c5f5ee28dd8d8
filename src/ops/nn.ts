// The fused transformer ops. Each pairs a forward kernel with its backward kernel; the tensors
// a backward needs (rstd, lse, attention output) are saved in the closure.
import { record, gradOf, gradOut } from '../core/autograd.js';
import { tensor, type Tensor } from '../core/tensor.js';
import type { FBuf } from '../backends/backend.js';
import { mul as mulOp, sum as sumOp, affine as affineOp } from './basic.js';
import { emptyLike, fb, ib, lastDim, sameShape } from './util.js';
import { anyBuf, isLowPrecision, outputLike } from './precision.js';

/** ids (...) int32 -> (..., C) rows of weight (V, C). */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  const [V, C] = weight.shape;
  // Host backends check ids here; a device backend bounds them in its kernel (a bad id gives NaN
  // rows, which the loss check reports) so that no host read stalls the step.
  if (ids.backend.device === 'cpu') {
    const idsHost = ids.toArray();
    for (let i = 0; i < idsHost.length; i++) {
      if (idsHost[i] < 0 || idsHost[i] >= V) throw new Error(`embedding: token id ${idsHost[i]} at position ${i} is outside the vocabulary (0..${V - 1})`);
    }
  }
  const out = emptyLike(weight, [...ids.shape, C]);
  weight.backend.embeddingForward(fb(out), ib(ids, 'embedding'), fb(weight), ids.size, C);
  return record(out, [weight], (g) => weight.backend.embeddingBackward(fb(gradOf(weight)), fb(g), ib(ids), ids.size, C));
}

/**
 * RMSNorm over the last axis: x * rsqrt(mean(x^2) + eps) * weight. Under bf16 activations the
 * output is bf16 even for a float32 x: its readers are GEMMs (q/k/v, gate/up, the lm head), which
 * autocast feeds the same rounded values, so the float32 output and its rounding pass are skipped.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const C = lastDim(x);
  if (weight.size !== C) throw new Error(`rmsNorm: weight has ${weight.size} elements, input rows have ${C}`);
  const N = x.size / C;
  const out = outputLike(x, true);
  // a bf16 QK-norm output has one reader (RoPE); a block's norm output feeds q, k and v (gate and up),
  // whose gradients are summed in float32: it gets a float32 gradient from the first
  if (!isLowPrecision(x)) out.storage.bf16Grad = false;
  const rstd = emptyLike(x, [N]);
  x.backend.rmsnormForward(anyBuf(out), fb(rstd), anyBuf(x, 'rmsNorm'), fb(weight), N, C, eps);
  return record(out, [x, weight], (g) => {
    const dx = gradOut(x, true);
    const dw = gradOut(weight);
    x.backend.rmsnormBackward(anyBuf(dx.grad), fb(dw.grad), anyBuf(g), anyBuf(x), fb(weight), fb(rstd), N, C, dx.accumulate, dw.accumulate);
  });
}

/** RoPE tables as MiniMind computes them: f_i = theta^(-2i/D), angle = pos * f_i. (maxPos, D/2). */
export function ropeTables(headDim: number, maxPos: number, theta: number, freqScale?: (i: number, f: number) => number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let i = 0; i < half; i++) {
    let f = Math.fround(1 / Math.pow(theta, (2 * i) / headDim));
    if (freqScale) f = freqScale(i, f);
    for (let p = 0; p < maxPos; p++) {
      const angle = Math.fround(p * f);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Rotary embedding of x (B, T, H, D) at positions pos0.. ; cos/sin (maxPos, D/2) tensors. bf16 in, bf16 out. */
export function rope(x: Tensor, cos: Tensor, sin: Tensor, pos0: number, interleaved: boolean): Tensor {
  const [B, T, H, D] = x.shape;
  if (pos0 + T > cos.shape[0]) throw new Error(`rope: positions up to ${pos0 + T} exceed the table's ${cos.shape[0]} (max_position_embeddings)`);
  const out = outputLike(x, isLowPrecision(x));
  const be = x.backend;
  be.ropeForward(anyBuf(out), anyBuf(x, 'rope'), fb(cos), fb(sin), B, T, H, D, pos0, interleaved);
  return record(out, [x], (g) => {
    const dx = gradOut(x, true);
    be.ropeBackward(anyBuf(dx.grad), anyBuf(g), fb(cos), fb(sin), B, T, H, D, pos0, interleaved, dx.accumulate);
  });
}

/**
 * Causal grouped-query attention. q (B, Tq, H, D); k, v (B, Tcap, KVH, D) of which the first Tk
 * positions are used (Tk defaults to Tcap; a KV cache passes its filled length). Returns
 * (B, Tq, H, D). The queries are the last Tq of the Tk positions.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, Tk: number = k.shape[1]): Tensor {
  const [B, Tq, H, D] = q.shape;
  const [, Tcap, KVH] = k.shape;
  sameShape(k, v, 'attention k/v');
  if (H % KVH !== 0) throw new Error(`attention: ${H} query heads are not a multiple of ${KVH} kv heads`);
  if (Tk < Tq || Tk > Tcap) throw new Error(`attention: ${Tk} keys for ${Tq} queries (capacity ${Tcap})`);
  const scale = 1 / Math.sqrt(D);
  const be = q.backend;
  // bf16 q gives a bf16 output (SDPA under autocast); bf16 keys and values are read in place only
  // without a cache (a cache is float32, and its unfilled tail is not read)
  const out = outputLike(q, isLowPrecision(q));
  const lse = emptyLike(q, [B, H, Tq]);
  const kv = (t: Tensor): FBuf => (Tk === Tcap ? anyBuf(t) : fb(t));
  be.attentionForward(anyBuf(out), fb(lse), anyBuf(q, 'attention'), kv(k), kv(v), B, Tq, Tk, Tcap, H, KVH, D, scale);
  return record(out, [q, k, v], (g) => {
    const dq = gradOut(q), dk = gradOut(k), dv = gradOut(v);
    be.attentionBackward(fb(dq.grad), fb(dk.grad), fb(dv.grad), anyBuf(g), anyBuf(q), kv(k), kv(v), anyBuf(out), fb(lse), B, Tq, Tk, Tcap, H, KVH, D, scale, dq.accumulate, dk.accumulate, dv.accumulate);
  });
}

/** silu(gate) * up, the SwiGLU product; bf16 when gate and up are. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  sameShape(gate, up, 'swiglu');
  // the kernel reads both inputs in one precision: bf16 when both are stored so
  const lowp = isLowPrecision(gate) && isLowPrecision(up);
  const inBuf = (t: Tensor): FBuf => (lowp ? anyBuf(t) : fb(t, 'swiglu'));
  const out = outputLike(gate, lowp);
  const be = gate.backend;
  be.swigluForward(anyBuf(out), inBuf(gate), inBuf(up), gate.size);
  return record(out, [gate, up], (g) => {
    // bf16 gradients for bf16 inputs when both are first contributions (one precision for both)
    const lowpGrads = lowp && !gate.grad && !up.grad;
    const dg = gradOut(gate, lowpGrads);
    const du = gradOut(up, lowpGrads);
    be.swigluBackward(anyBuf(dg.grad), anyBuf(du.grad), anyBuf(g), inBuf(gate), inBuf(up), gate.size, dg.accumulate, du.accumulate);
  });
}

export function softmax(x: Tensor): Tensor {
  const C = lastDim(x);
  const out = emptyLike(x);
  x.backend.softmaxForward(fb(out), fb(x, 'softmax'), x.size / C, C);
  return record(out, [x], (g) => {
    const dx = gradOut(x);
    x.backend.softmaxBackward(fb(dx.grad), fb(g), fb(out), x.size / C, C, dx.accumulate);
  });
}

export function logSoftmax(x: Tensor): Tensor {
  const C = lastDim(x);
  const out = emptyLike(x);
  x.backend.logSoftmaxForward(fb(out), fb(x, 'logSoftmax'), x.size / C, C);
  return record(out, [x], (g) => {
    const dx = gradOut(x);
    x.backend.logSoftmaxBackward(fb(dx.grad), fb(g), fb(out), x.size / C, C, dx.accumulate);
  });
}

/**
 * Per-token log-probabilities of the targets: logits (..., V), targets (...) int32 ->
 * (...) with log softmax(logits)[target], and 0 where target == ignoreIndex.
 */
export function logprobGather(logits: Tensor, targets: Tensor, ignoreIndex = -100): Tensor {
  const V = lastDim(logits);
  const N = logits.size / V;
  if (targets.size !== N) throw new Error(`logprobGather: ${targets.size} targets for ${N} rows of logits`);
  const be = logits.backend;
  const out = emptyLike(logits, targets.shape);
  const lse = emptyLike(logits, [N]);
  be.logprobGatherForward(fb(out), fb(lse), anyBuf(logits, 'logprobGather'), ib(targets, 'logprobGather targets'), N, V, ignoreIndex);
  return record(out, [logits], (g) => {
    const dl = gradOut(logits, true);
    be.logprobGatherBackward(anyBuf(dl.grad), fb(g), anyBuf(logits), fb(lse), ib(targets), N, V, ignoreIndex, dl.accumulate);
  });
}

/**
 * Mean cross-entropy over the targets that are not ignoreIndex, optionally weighted by a loss
 * mask (same shape as targets): sum(-logp * mask) / sum(mask), as MiniMind computes it.
 * Returns a scalar tensor of shape [1]. The count is taken from the host-side targets/mask.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: { ignoreIndex?: number; mask?: Float32Array; targetsHost?: Int32Array } = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const lp = logprobGather(logits, targets, ignoreIndex);
  // the count of targets is host arithmetic: from the caller's host copy when given (no device read)
  return meanTargetLoss(lp, opts.targetsHost ?? (targets.toArray() as Int32Array), ignoreIndex, opts.mask);
}

/**
 * Cross-entropy's reduction of per-token log-probabilities lp (0 where ignored):
 * -sum(lp * mask) / sum(mask over the targets), the mask being 1 where absent.
 */
export function meanTargetLoss(lp: Tensor, targetsHost: Int32Array, ignoreIndex: number, mask?: Float32Array): Tensor {
  let denom = 0;
  let weighted = lp;
  if (mask) {
    if (mask.length !== lp.size) throw new Error(`crossEntropy: mask has ${mask.length} entries for ${lp.size} targets`);
    for (let i = 0; i < targetsHost.length; i++) if (targetsHost[i] !== ignoreIndex) denom += mask[i];
    const m = tensor(lp.dtype === 'float64' ? Float64Array.from(mask) : mask, lp.shape, lp.dtype, lp.backend);
    weighted = mulOp(lp, m);
  } else {
    for (let i = 0; i < targetsHost.length; i++) if (targetsHost[i] !== ignoreIndex) denom++;
  }
  return affineOp(sumOp(weighted), -1 / Math.max(denom, 1), 0);
}
