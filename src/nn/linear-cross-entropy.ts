// The LM head and cross-entropy in row chunks, without the (rows, vocab) logits tensor: each chunk
// of hidden rows goes through the head and the fused log-softmax + gather, checkpointed (nn/
// checkpoint.ts), so only one chunk's logits (and, in backward, its logits and their gradient) are
// ever alive; backward recomputes a chunk's logits (one more head GEMM). The loss is the one
// ops.crossEntropy gives on the full logits: same per-token kernels, same reduction.
import { tensor, type Tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { checkpoint } from './checkpoint.js';

/** Logit elements a chunk may hold: 32 Mi (64 MiB in bf16), a few chunks for a batch of 32k tokens. */
export const LOSS_CHUNK_ELEMENTS = 1 << 25;

/**
 * Mean cross-entropy of (x weightᵀ) against targets, as ops.crossEntropy(ops.linear(x, weight), ...):
 * x (..., d) hidden states, weight (V, d), targetsHost one target per row of x (ignoreIndex = no
 * target), mask optional per-target weights. chunkRows: rows per chunk (default from
 * LOSS_CHUNK_ELEMENTS).
 */
export function linearCrossEntropy(x: Tensor, weight: Tensor, targetsHost: Int32Array, opts: { ignoreIndex?: number; mask?: Float32Array; chunkRows?: number } = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const [V, d] = weight.shape;
  const N = x.size / d;
  if (targetsHost.length !== N) throw new Error(`linearCrossEntropy: ${targetsHost.length} targets for ${N} rows`);
  const rows = Math.max(1, Math.floor(opts.chunkRows ?? LOSS_CHUNK_ELEMENTS / V));
  const flat = x.reshape([N, d]);
  const lps: Tensor[] = [];
  for (let r0 = 0; r0 < N; r0 += rows) {
    const n = Math.min(rows, N - r0);
    const part = n === N ? flat : ops.slice(flat, 0, r0, n);
    const targets = tensor(targetsHost.subarray(r0, r0 + n), [n], 'int32', x.backend);
    const [lp] = checkpoint((h) => [ops.logprobGather(ops.linear(h, weight), targets, ignoreIndex)], part);
    lps.push(lp!);
  }
  const lp = lps.length === 1 ? lps[0] : ops.concat(lps, 0);
  return ops.meanTargetLoss(lp, targetsHost, ignoreIndex, opts.mask);
}
