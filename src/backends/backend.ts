// The backend interface: every kernel the engine needs, by name, with one signature.
//
// Conventions (as llm.c): outputs first, then inputs, then sizes. Buffers are contiguous and
// row-major. Kernels whose name ends in `Backward` take one `accumulate` flag per gradient output
// (last in the argument list, in the outputs' order): true adds (+=) into it, so a tensor used
// twice gets the sum of both gradients without extra adds; false overwrites it, so the first
// contribution to a gradient needs no zero-filled buffer (core/autograd.ts: gradOut). Scatter-adds
// (embeddingBackward, gatherBackward) always accumulate. Float kernels accept
// float32 buffers on every backend; the js backend also accepts float64 (gradient checks).
//
// Shape legend: N = rows, C = channels (row length), B = batch, T = time, H = query heads,
// KVH = key/value heads, D = head dim, V = vocab, M/K/N in matmul as in BLAS.
//
// Buffers are opaque to everything outside the backends: on the CPU backends a buffer is the host
// typed array itself; the CUDA and WebGPU backends hand out DeviceBuffer handles. Only `upload`/`download`
// cross between host and device.
import type { DType, FloatArray, HostArray } from '../core/dtype.js';

/** A buffer in device memory: the backend that allocated it alone can use it. */
export interface DeviceBuffer {
  readonly device: 'cuda' | 'webgpu';
  /** Device address, or the WebGPU worker's buffer id (an opaque number outside the backend). */
  readonly ptr: number;
  readonly dtype: DType;
  /** Element count. */
  readonly size: number;
}

export type Buf = HostArray | DeviceBuffer;
export type FBuf = FloatArray | DeviceBuffer;
export type IBuf = Int32Array | DeviceBuffer;
/** What the host backends (js, cpu) receive: plain typed arrays. */
export type HostBuf = HostArray;
export type HostFBuf = FloatArray;
export type HostIBuf = Int32Array;

/** GEMM operand precision: fp32, or bf16 operands with fp32 accumulation (PyTorch autocast's GEMMs). */
export type MatmulPrecision = 'fp32' | 'bf16';

export type UnaryOp = 'exp' | 'log' | 'silu' | 'sigmoid' | 'logsigmoid';

export interface Backend {
  readonly name: string;
  /** Where buffers live: 'cpu' backends hand out host typed arrays, 'cuda' and 'webgpu' device handles. */
  readonly device: 'cpu' | 'cuda' | 'webgpu';

  // ---- memory ----
  /**
   * A buffer whose contents are unspecified (a pooled backend may hand back old values; forward
   * kernels overwrite their outputs). zeros() in core/tensor.ts fills explicitly where zeros matter.
   */
  alloc(dtype: DType, size: number): Buf;
  /** Gives a buffer back (the backend may pool it). The caller must not use it again. */
  free(buf: Buf): void;
  /** Copies host data into a new backend buffer. */
  upload(host: HostArray): Buf;
  /** Copies a buffer to a new host array. */
  download(buf: Buf): HostArray;
  /** Bytes currently held in live buffers (for memory tests and reports). */
  liveBytes(): number;

  // ---- elementwise (n = element count) ----
  fill(out: Buf, value: number, n: number): void;
  copy(out: Buf, x: Buf, n: number): void;
  /** out = a + b */
  add(out: FBuf, a: FBuf, b: FBuf, n: number): void;
  /** out = a * b */
  mul(out: FBuf, a: FBuf, b: FBuf, n: number): void;
  /** out = alpha * x + beta */
  affine(out: FBuf, x: FBuf, alpha: number, beta: number, n: number): void;
  /** out += alpha * x (gradient accumulation) */
  axpy(out: FBuf, x: FBuf, alpha: number, n: number): void;
  /** out[0] = sum of squares of x, or += when accumulate (gradient norms stay on the device). */
  sumSquares(out: FBuf, x: FBuf, n: number, accumulate: boolean): void;
  /** x *= min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6)): clip_grad_norm_'s scaling, read on the device. */
  clipScale(x: FBuf, sumsq: FBuf, maxNorm: number, n: number): void;
  unaryForward(op: UnaryOp, out: FBuf, x: FBuf, n: number): void;
  /** dx (+)= dout * op'(x); `out` is the forward result (some derivatives are cheaper from it). */
  unaryBackward(op: UnaryOp, dx: FBuf, dout: FBuf, x: FBuf, out: FBuf, n: number, accumulate: boolean): void;

  // ---- GEMM ----
  /**
   * out (M, N) = op(a) @ op(b), or += when accumulate. op(a) is (M, K): a is (M, K), or (K, M)
   * when transA. op(b) is (K, N): b is (K, N), or (N, K) when transB. Linear is transB = true.
   */
  matmul(out: FBuf, a: FBuf, b: FBuf, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): void;

  // ---- rows: embedding / gather / scatter ----
  /** out[i, :] = weight[ids[i], :]  (out (N, C), weight (V, C)); also MoE's row gather. */
  embeddingForward(out: FBuf, ids: IBuf, weight: FBuf, N: number, C: number): void;
  /** dweight[ids[i], :] += dout[i, :]; also MoE's row scatter-add. */
  embeddingBackward(dweight: FBuf, dout: FBuf, ids: IBuf, N: number, C: number): void;
  /** out[i, :] = x[i, :] * w[i]  (MoE: expert output times its gate weight) */
  rowScaleForward(out: FBuf, x: FBuf, w: FBuf, N: number, C: number): void;
  /** dx[i, :] (+)= dout[i, :] * w[i];  dw[i] (+)= dot(dout[i, :], x[i, :]) */
  rowScaleBackward(dx: FBuf, dw: FBuf, dout: FBuf, x: FBuf, w: FBuf, N: number, C: number, accDx: boolean, accDw: boolean): void;
  /** values/indices (N, k): the k largest of each row of x (N, C), descending, ties to the lower index. */
  topk(values: FBuf, indices: IBuf, x: FBuf, N: number, C: number, k: number): void;
  /** out[i, j] = x[i, idx[i, j]]  (out (N, k), x (N, C)) */
  gatherForward(out: FBuf, x: FBuf, idx: IBuf, N: number, C: number, k: number): void;
  /** dx[i, idx[i, j]] += dout[i, j] */
  gatherBackward(dx: FBuf, dout: FBuf, idx: IBuf, N: number, C: number, k: number): void;

  // ---- shape ----
  /** out = x permuted: out.shape[i] = shape[perm[i]]; += when accumulate. */
  permute(out: Buf, x: Buf, shape: readonly number[], perm: readonly number[], accumulate: boolean): void;
  /** out (outer, len, inner) (+)= x (outer, dimIn, inner)[:, start:start+len, :] */
  sliceCopy(out: Buf, x: Buf, outer: number, dimIn: number, inner: number, start: number, len: number, accumulate: boolean): void;
  /** out (outer, dimOut, inner)[:, start:start+len, :] (+)= x (outer, len, inner) */
  sliceScatter(out: Buf, x: Buf, outer: number, dimOut: number, inner: number, start: number, len: number, accumulate: boolean): void;
  /** out (outer, inner) = sum over the middle axis of x (outer, dim, inner) */
  sumAxis(out: FBuf, x: FBuf, outer: number, dim: number, inner: number): void;
  /** dx (outer, dim, inner) (+)= dout (outer, inner) broadcast over the middle axis */
  sumAxisBackward(dx: FBuf, dout: FBuf, outer: number, dim: number, inner: number, accumulate: boolean): void;

  // ---- transformer kernels ----
  /** out = x * rstd * w over rows of C; rstd (N) saved for backward. */
  rmsnormForward(out: FBuf, rstd: FBuf, x: FBuf, w: FBuf, N: number, C: number, eps: number): void;
  rmsnormBackward(dx: FBuf, dw: FBuf, dout: FBuf, x: FBuf, w: FBuf, rstd: FBuf, N: number, C: number, accDx: boolean, accDw: boolean): void;
  /**
   * Rotary embedding on x (B, T, H, D) at positions pos0 .. pos0+T-1. cos/sin: (maxPos, D/2).
   * interleaved: pairs (x[2i], x[2i+1]) (MiniMind v1); else rotate-half pairs (x[i], x[i+D/2]).
   */
  ropeForward(out: FBuf, x: FBuf, cos: FBuf, sin: FBuf, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean): void;
  /** dx (+)= the inverse rotation of dout. */
  ropeBackward(dx: FBuf, dout: FBuf, cos: FBuf, sin: FBuf, B: number, T: number, H: number, D: number, pos0: number, interleaved: boolean, accumulate: boolean): void;
  /**
   * Causal grouped-query attention. q (B, Tq, H, D); k, v (B, Tcap, KVH, D) of which the first Tk
   * positions are used (Tk >= Tq; the queries are the last Tq positions, so query i sees keys
   * 0 .. Tk-Tq+i). Query head h uses kv head floor(h / (H / KVH)). out (B, Tq, H, D);
   * lse (B, H, Tq) = log-sum-exp of the scaled scores, saved for backward.
   */
  attentionForward(out: FBuf, lse: FBuf, q: FBuf, k: FBuf, v: FBuf, B: number, Tq: number, Tk: number, Tcap: number, H: number, KVH: number, D: number, scale: number): void;
  /** dq, dk, dv (+)= the gradients; overwriting dk/dv writes all Tcap positions (zeros past Tk). */
  attentionBackward(dq: FBuf, dk: FBuf, dv: FBuf, dout: FBuf, q: FBuf, k: FBuf, v: FBuf, out: FBuf, lse: FBuf, B: number, Tq: number, Tk: number, Tcap: number, H: number, KVH: number, D: number, scale: number, accDq: boolean, accDk: boolean, accDv: boolean): void;
  /** out = silu(gate) * up */
  swigluForward(out: FBuf, gate: FBuf, up: FBuf, n: number): void;
  swigluBackward(dgate: FBuf, dup: FBuf, dout: FBuf, gate: FBuf, up: FBuf, n: number, accGate: boolean, accUp: boolean): void;
  softmaxForward(out: FBuf, x: FBuf, N: number, C: number): void;
  /** dx (+)= out * (dout - sum(dout * out)) per row */
  softmaxBackward(dx: FBuf, dout: FBuf, out: FBuf, N: number, C: number, accumulate: boolean): void;
  logSoftmaxForward(out: FBuf, x: FBuf, N: number, C: number): void;
  /** dx (+)= dout - exp(out) * sum(dout) per row */
  logSoftmaxBackward(dx: FBuf, dout: FBuf, out: FBuf, N: number, C: number, accumulate: boolean): void;
  /**
   * Fused log-softmax + gather: out[i] = logits[i, t_i] - logsumexp(logits[i, :]), or 0 where
   * t_i == ignoreIndex. lse (N) saved. Cross-entropy is its negative; DPO uses it directly.
   */
  logprobGatherForward(out: FBuf, lse: FBuf, logits: FBuf, targets: IBuf, N: number, V: number, ignoreIndex: number): void;
  /** dlogits[i, :] (+)= dout[i] * (onehot(t_i) - softmax(logits[i, :])); ignored rows: 0 (+= nothing). */
  logprobGatherBackward(dlogits: FBuf, dout: FBuf, logits: FBuf, lse: FBuf, targets: IBuf, N: number, V: number, ignoreIndex: number, accumulate: boolean): void;

  // ---- optimizer ----
  /**
   * One AdamW step with PyTorch semantics (decoupled weight decay, bias correction by `step`).
   * guard: null, or a one-element buffer the step reads where it runs (on the device for CUDA):
   * when it holds NaN or ±Infinity the step changes nothing (param, m, v), so a training loop can
   * skip the update after a non-finite loss or gradient without reading anything to the host.
   */
  adamwStep(param: FBuf, grad: FBuf, m: FBuf, v: FBuf, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, guard: FBuf | null): void;

  // ---- optional ----
  /** Sets the GEMM precision; returns the one in effect (a backend without bf16 GEMMs stays fp32). */
  setMatmulPrecision?(p: MatmulPrecision): MatmulPrecision;
  matmulPrecision?(): MatmulPrecision;
  /** Waits until queued device work is done (timing); a no-op on synchronous backends. */
  synchronize?(): void;
  /**
   * Under bf16 GEMM precision: a bf16 copy of x (n floats) that matmul takes in place of x, so an
   * operand used by several GEMMs is rounded once (free it with free()); null at fp32 precision.
   */
  lowPrecisionCopy?(x: FBuf, n: number): FBuf | null;
  /**
   * bf16 activations (PyTorch autocast's storage), on backends whose kernels read and write them:
   * a buffer of n bf16 values, which the kernels named in ops/precision.ts take in place of a
   * float buffer (the backend knows a buffer's precision from the handle).
   */
  allocLowPrecision?(n: number): FBuf;
  /** A float32 copy of n bf16 values (a bf16-only tensor read by a kernel without a bf16 path). */
  fromLowPrecision?(x: FBuf, n: number): FBuf;
  /**
   * Multi-tensor forms of adamwStep, sumSquares and clipScale over lists of buffers (sizes[i] floats
   * each), with the same results: one launch for many parameters where launches are what costs
   * (PyTorch's foreach / fused optimizers). Callers use them when present.
   */
  adamwStepMulti?(params: FBuf[], grads: FBuf[], m: FBuf[], v: FBuf[], sizes: number[], lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number, guard: FBuf | null): void;
  sumSquaresMulti?(out: FBuf, xs: FBuf[], sizes: number[], accumulate: boolean): void;
  clipScaleMulti?(xs: FBuf[], sizes: number[], sumsq: FBuf, maxNorm: number): void;
  /** A fused batch-1 decode step over a dense model's buffers (CUDA: one graph replay per token). */
  createDecoder?(spec: FusedDecodeSpec): FusedDecoder;
  /**
   * One decode step of attention for S sequences, each with its own KV cache (continuous
   * batching), in one call. Sequence s: its new k[s], v[s] (KVH, D) are written at position
   * pos[s] of its caches kc[s], vc[s] ((1, capacity, KVH, D) buffers), then out[s] (H, D) is
   * attention of q[s] (H, D) over its positions 0 .. pos[s]; query head h reads kv head
   * floor(h / (H / KVH)). q/out (S, H, D), k/v (S, KVH, D). Without it, callers write each cache
   * and call attentionForward once per sequence (the same result).
   */
  attentionDecode?(out: FBuf, q: FBuf, k: FBuf, v: FBuf, kc: FBuf[], vc: FBuf[], pos: Int32Array, S: number, H: number, KVH: number, D: number, scale: number): void;
}

/** Buffers and sizes of a dense decoder-only model for a fused decode step; weights (out, in) row-major. */
export interface FusedDecodeSpec {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  /** Positions the KV cache buffers hold (each (capacity, kvHeads, headDim)). */
  capacity: number;
  /** RoPE pairs (2i, 2i+1) as MiniMind v1, else (i, i + headDim/2). */
  interleaved: boolean;
  eps: number;
  embed: FBuf;
  finalNorm: FBuf;
  lmHead: FBuf;
  /** RoPE tables (positions, headDim/2). */
  cos: FBuf;
  sin: FBuf;
  layers: {
    inputNorm: FBuf; wq: FBuf; wk: FBuf; wv: FBuf; wo: FBuf; qNorm: FBuf | null; kNorm: FBuf | null;
    postNorm: FBuf; wGate: FBuf; wUp: FBuf; wDown: FBuf; kCache: FBuf; vCache: FBuf;
  }[];
}

export interface FusedDecoder {
  /** Feeds `token` at position `pos`: its k/v go into the cache; the next-token logits into `logits`. */
  step(token: number, pos: number, logits: Float32Array): void;
  dispose(): void;
}
