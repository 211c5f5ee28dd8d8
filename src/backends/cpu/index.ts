// The native CPU backend: a thin TypeScript wrapper over the C++ addon (build/Release/minimind_cpu.node,
// built by `npm install` through node-gyp from binding.gyp and the .cc files next to this one).
// Buffers are plain host typed arrays, passed to C++ without copying; kernels are float32 only.
// Memory: freed buffers go to a pool keyed by dtype and size class, so the same training step run
// again allocates nothing new (V8 releases big typed arrays only when its GC runs, so reuse is what
// keeps peak RSS flat); the pool sheds its longest-unused buffers when it outgrows what is live. Threads: MINIMIND_THREADS, else every core Node reports; `setThreads(n)` changes it.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { packageRoot } from '../package-root.js';
import type { Backend, Buf as AnyBuf, FusedDecodeSpec, FusedDecoder, HostBuf as Buf, HostFBuf as FBuf, UnaryOp } from '../backend.js';
import type { DType, HostArray } from '../../core/dtype.js';
import { UserError } from '../../core/errors.js';
import { f16ToF32, f32ToF16 } from '../../formats/halfFloat.js';

/** The functions the addon exports (argument order = the Backend interface). */
export interface Addon {
  setThreads(n: number): void;
  getThreads(): number;
  setIsa(name: string): string;
  getIsa(): string;
  setMatmulPrecision(p: string): 'fp32' | 'bf16';
  getMatmulPrecision(): 'fp32' | 'bf16';
  [kernel: string]: (...args: any[]) => any;
}

export interface CpuBackend extends Backend {
  /** Threads used by the kernels (the calling thread + a pool of n - 1; 1 = the calling thread only). */
  setThreads(n: number): void;
  getThreads(): number;
  /**
   * ISA level in use, highest first: 'amx' (bf16 GEMM on AMX tiles) > 'avx512bf16' (bf16 GEMM on
   * vdpbf16ps) > 'avx512' > 'avx2' > 'generic'; each implies the ones below. Default: the best this
   * CPU has, or MINIMIND_ISA. setIsa picks a lower one (tests, benchmarks) and returns the level in effect.
   */
  isa(): string;
  setIsa(name: IsaName | 'best'): string;
  /**
   * GEMM precision: 'fp32', or 'bf16' = operands rounded to bf16 with fp32 accumulation (AMX or
   * AVX512-BF16; weights, gradients and optimizer state stay fp32). Returns the precision in effect:
   * 'fp32' while the ISA level has no bf16 GEMM (below 'avx512bf16').
   */
  setMatmulPrecision(p: 'fp32' | 'bf16'): 'fp32' | 'bf16';
  matmulPrecision(): 'fp32' | 'bf16';
  /**
   * Registers a packed copy (bf16 or q8) of the weight buffer `w` (N, K): from then on, matmuls x W^T
   * against it run the fused dequantising GEMV on the packed copy: bf16 for at most PACKED_MAX_ROWS
   * rows of x (decode steps, small batches; more rows take the fp32 GEMM on the same rounded values),
   * q8 for any number of rows, with x quantised per 32 like the weights (llama.cpp's Q8_0 x Q8_0
   * arithmetic, so a prompt's prefill and its decode steps compute alike). `w` must already hold the
   * values the packed copy encodes (see nn/inference-weights.ts), so every other path computes with the
   * same weights. Inference only: a later write to `w` is not seen by the packed copy. Freeing `w`
   * drops the registration.
   */
  registerPackedWeight(w: AnyBuf, packed: PackedWeight): void;
  /** Bytes kept in the reuse pool (not counted by liveBytes; liveBytes counts whole allocations, size-class slack included). */
  pooledBytes(): number;
  /** Drops the pool so the GC can return its memory. */
  trimPool(): void;
}

/** A weight matrix (N, K) packed for decoding: bf16 bits, or Q8_0 int8 codes with one scale per 32 k (an fp16 value, held as float32). */
export type PackedWeight =
  | { format: 'bf16'; N: number; K: number; data: Uint16Array }
  | { format: 'q8'; N: number; K: number; data: Int8Array; scales: Float32Array };

/** Matmuls with at most this many rows use a registered bf16 weight (decode steps, small batches, short prefills); q8 ones, any number. */
export const PACKED_MAX_ROWS = 32;

/** The ISA levels of the native kernels, highest first. */
export const ISA_LEVELS = ['amx', 'avx512bf16', 'avx512', 'avx2', 'generic'] as const;
export type IsaName = (typeof ISA_LEVELS)[number];

const UNARY: Record<UnaryOp, number> = { exp: 0, log: 1, silu: 2, sigmoid: 3, logsigmoid: 4 };

let loadError: string | null = null;
let cached: CpuBackend | null | undefined;

/** Path of the compiled addon. */
export function addonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'minimind_cpu.node');
}

/** Why loadCpuBackend() returned null (one line), or null when it loaded. */
export function cpuLoadError(): string | null {
  return loadError;
}

function defaultThreads(): number {
  const env = process.env.MINIMIND_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
    throw new UserError(`MINIMIND_THREADS must be a positive integer, got '${env}'`);
  }
  return Math.max(1, availableParallelism());
}

let addonCache: Addon | null | undefined;
/**
 * The addon itself, or null (see cpuLoadError()) when it is missing or fails to load; loaded once
 * per thread, with MINIMIND_ISA applied. Other native users (data dedup's MinHash) call it directly.
 */
export function loadAddon(): Addon | null {
  if (addonCache !== undefined) return addonCache;
  const path = addonPath();
  if (!existsSync(path)) {
    loadError = `native addon not built (${path} missing; run 'npm run build:native' with a C++17 compiler)`;
    return (addonCache = null);
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    loadError = `native addon failed to load: ${(e as Error).message.split('\n')[0]}`;
    return (addonCache = null);
  }
  // MINIMIND_ISA caps the kernels at a lower ISA level, so every path can be run on a CPU that has it
  const isa = process.env.MINIMIND_ISA;
  if (isa !== undefined && isa !== '') {
    if (!(ISA_LEVELS as readonly string[]).includes(isa)) throw new UserError(`MINIMIND_ISA must be one of ${ISA_LEVELS.join(', ')} (or unset for the best this CPU has), got '${isa}'`);
    addon.setIsa(isa);
  }
  addonCache = addon;
  return addon;
}

/** The native backend, or null (see cpuLoadError()) when the addon is missing or fails to load. */
export function loadCpuBackend(): CpuBackend | null {
  if (cached !== undefined) return cached;
  const addon = loadAddon();
  if (!addon) {
    cached = null;
    return null;
  }
  addon.setThreads(defaultThreads());
  cached = makeBackend(addon);
  return cached;
}

// Size classes of the buffer pool: small buffers exactly; from 64 Ki elements up, the capacity
// rounds up to 1/8 of the power of two below (<= 12.5 % slack), so buffers whose size varies a
// little from step to step (MoE: tokens routed to each expert) are reused instead of piling up.
function capacityFor(size: number): number {
  if (size < 65536) return size;
  const step = 2 ** (Math.floor(Math.log2(size)) - 3);
  return Math.ceil(size / step) * step;
}

/** q8 codes + 128 as unsigned bytes (a copy; the caller's codes are left as they are). */
function offsetCodes(codes: Int8Array): Uint8Array {
  const out = new Uint8Array(codes.length);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.length));
  const n4 = codes.length >>> 2;
  const words = new Uint32Array(out.buffer, 0, n4);
  for (let i = 0; i < n4; i++) words[i] ^= 0x80808080;
  for (let i = n4 * 4; i < out.length; i++) out[i] ^= 0x80;
  return out;
}

/** Q8_0 scales as fp16 bits, as the kernels read them; each must be an fp16 value already (quantizeQ8's are). */
function halfScales(scales: Float32Array): Uint16Array {
  const bits = f32ToF16(scales);
  const back = f16ToF32(bits);
  for (let i = 0; i < scales.length; i++) {
    if (back[i] !== scales[i] && !(Number.isNaN(back[i]) && Number.isNaN(scales[i]))) {
      throw new Error(`registerPackedWeight: q8 scale ${i} (${scales[i]}) is not an fp16 value (Q8_0 keeps fp16 scales; see quantizeQ8)`);
    }
  }
  return bits;
}

/** Pooled bytes kept regardless of how much is live. */
const POOL_FLOOR = 256 * 1024 * 1024;

function makeBackend(n: Addon): CpuBackend {
  const pool = new Map<string, { buf: HostArray; tick: number }[]>();
  let live = 0;
  let pooled = 0;
  let tick = 0;
  const K = n; // kernels, called directly
  // packed inference weights by their fp32 buffer (see registerPackedWeight), as the kernels read
  // them: q8 codes offset by 128 (unsigned bytes: vpdpbusd's operand order, gemv_q8.cc)
  type NativePacked = { format: 'bf16'; N: number; K: number; data: Uint16Array } | { format: 'q8'; N: number; K: number; data: Uint8Array; scales: Uint16Array };
  const packed = new WeakMap<object, NativePacked>();
  let nPacked = 0;
  const noScales = new Uint16Array(0);

  function key(dtype: DType, cap: number): string {
    return dtype + ':' + cap;
  }
  function dtypeOfBuf(b: HostArray): DType {
    return b instanceof Float32Array ? 'float32' : b instanceof Int32Array ? 'int32' : 'float64';
  }
  function make(dtype: DType, size: number): HostArray {
    return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Float64Array(size);
  }
  // The whole allocation behind a (possibly shortened) buffer handed out by alloc.
  function baseOf(buf: HostArray): HostArray {
    if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf;
    const T = buf.constructor as Float32ArrayConstructor;
    return new T(buf.buffer as ArrayBuffer) as unknown as HostArray;
  }
  // On a pool miss, when the pool holds more than max(floor, live), drop the longest-unused buffers.
  function evict(): void {
    const limit = Math.max(POOL_FLOOR, live);
    if (pooled <= limit) return;
    const all: { k: string; tick: number; bytes: number }[] = [];
    for (const [k, list] of pool) for (const e of list) all.push({ k, tick: e.tick, bytes: e.buf.byteLength });
    all.sort((x, y) => x.tick - y.tick);
    for (const e of all) {
      if (pooled <= limit) break;
      const list = pool.get(e.k)!;
      const i = list.findIndex((q) => q.tick === e.tick);
      list.splice(i, 1);
      if (list.length === 0) pool.delete(e.k);
      pooled -= e.bytes;
    }
  }

  const backend: CpuBackend = {
    name: 'cpu',
    device: 'cpu',

    // ---- memory ----
    alloc(dtype: DType, size: number): Buf {
      tick++;
      const cap = capacityFor(size);
      const list = pool.get(key(dtype, cap));
      let base: HostArray;
      if (list !== undefined && list.length > 0) {
        base = list.pop()!.buf;  // old contents: alloc promises no zeros (zeros() fills where it matters)
        pooled -= base.byteLength;
      } else {
        evict();
        base = make(dtype, cap);
      }
      live += base.byteLength;
      return cap === size ? base : (base.subarray(0, size) as HostArray);
    },
    free(buf: Buf): void {
      if (nPacked > 0 && packed.delete(buf)) nPacked--;
      const base = baseOf(buf);
      live -= base.byteLength;
      const k = key(dtypeOfBuf(base), base.length);
      let list = pool.get(k);
      if (list === undefined) pool.set(k, (list = []));
      list.push({ buf: base, tick });
      pooled += base.byteLength;
    },
    upload(host: HostArray): Buf {
      const buf = backend.alloc(dtypeOfBuf(host), host.length) as Buf;
      (buf as Float32Array).set(host as Float32Array);
      return buf;
    },
    download(buf: Buf): HostArray {
      return buf.slice();
    },
    liveBytes: () => live,
    pooledBytes: () => pooled,
    trimPool(): void {
      pool.clear();
      pooled = 0;
    },

    // ---- elementwise ----
    fill(out: Buf, value: number, count: number): void {
      if (count >= 1 << 16 && !(out instanceof Float64Array)) n.fillValue(out, value, count);
      else out.fill(value, 0, count);
    },
    copy(out: Buf, x: Buf, count: number): void {
      if (count === x.length) (out as Float32Array).set(x as Float32Array);
      else (out as Float32Array).set((x as Float32Array).subarray(0, count));
    },
    add: (out, a, b, c) => K.add(out, a, b, c),
    mul: (out, a, b, c) => K.mul(out, a, b, c),
    affine: (out, x, alpha, beta, c) => K.affine(out, x, alpha, beta, c),
    axpy: (out, x, alpha, c) => K.axpy(out, x, alpha, c),
    sumSquares: (out: FBuf, x: FBuf, n: number, accumulate: boolean) => {
      const s = K.sumSquares(x, n) as number;
      out[0] = accumulate ? out[0] + s : s;
    },
    clipScale: (x: FBuf, sumsq: FBuf, maxNorm: number, n: number) => {
      const coef = maxNorm / (Math.sqrt(sumsq[0]) + 1e-6);
      if (coef < 1) K.affine(x, x, coef, 0, n);
    },
    unaryForward(op: UnaryOp, out: FBuf, x: FBuf, c: number): void {
      K.unaryForward(UNARY[op], out, x, c);
    },
    unaryBackward(op: UnaryOp, dx: FBuf, dout: FBuf, x: FBuf, out: FBuf, c: number, accumulate: boolean): void {
      K.unaryBackward(UNARY[op], dx, dout, x, out, c, accumulate);
    },

    // ---- GEMM ----
    matmul(out, a, b, M, N, Kd, transA, transB, accumulate): void {
      if (nPacked > 0 && transB && !transA) {
        const p = packed.get(b);
        if (p !== undefined && p.N === N && p.K === Kd && (M <= PACKED_MAX_ROWS || p.format === 'q8')) {
          K.matmulPacked(out, a, p.data, p.format === 'q8' ? p.scales : noScales, M, N, Kd, p.format, accumulate);
          return;
        }
      }
      K.matmul(out, a, b, M, N, Kd, transA, transB, accumulate);
    },
    registerPackedWeight(w: AnyBuf, p: PackedWeight): void {
      if (p.format === 'q8' && p.K % 32 !== 0) throw new Error(`registerPackedWeight: q8 needs K to be a multiple of 32, got ${p.K}`);
      if (p.format === 'q8' && p.scales.length < (p.N * p.K) / 32) throw new Error(`registerPackedWeight: q8 needs ${(p.N * p.K) / 32} scales, got ${p.scales.length}`);
      if (!packed.has(w)) nPacked++;
      packed.set(w, p.format === 'q8' ? { ...p, data: offsetCodes(p.data), scales: halfScales(p.scales) } : p);
    },

    // ---- rows ----
    embeddingForward: (out, ids, weight, N, C) => K.embeddingForward(out, ids, weight, N, C),
    embeddingBackward: (dweight, dout, ids, N, C) => K.embeddingBackward(dweight, dout, ids, N, C),
    rowScaleForward: (out, x, w, N, C) => K.rowScaleForward(out, x, w, N, C),
    rowScaleBackward: (dx, dw, dout, x, w, N, C, accDx, accDw) => K.rowScaleBackward(dx, dw, dout, x, w, N, C, accDx, accDw),
    topk: (values, indices, x, N, C, k) => K.topk(values, indices, x, N, C, k),
    gatherForward: (out, x, idx, N, C, k) => K.gatherForward(out, x, idx, N, C, k),
    gatherBackward: (dx, dout, idx, N, C, k) => K.gatherBackward(dx, dout, idx, N, C, k),

    // ---- shape ----
    permute: (out, x, shape, perm, accumulate) => K.permute(out, x, shape, perm, accumulate),
    sliceCopy: (out, x, outer, dimIn, inner, start, len, accumulate) => K.sliceCopy(out, x, outer, dimIn, inner, start, len, accumulate),
    sliceScatter: (out, x, outer, dimOut, inner, start, len, accumulate) =>
      K.sliceScatter(out, x, outer, dimOut, inner, start, len, accumulate),
    sumAxis: (out, x, outer, dim, inner) => K.sumAxis(out, x, outer, dim, inner),
    sumAxisBackward: (dx, dout, outer, dim, inner, accumulate) => K.sumAxisBackward(dx, dout, outer, dim, inner, accumulate),

    // ---- transformer ----
    rmsnormForward: (out, rstd, x, w, N, C, eps) => K.rmsnormForward(out, rstd, x, w, N, C, eps),
    rmsnormBackward: (dx, dw, dout, x, w, rstd, N, C, accDx, accDw) => K.rmsnormBackward(dx, dw, dout, x, w, rstd, N, C, accDx, accDw),
    ropeForward: (out, x, cos, sin, B, T, H, D, pos0, interleaved) => K.ropeForward(out, x, cos, sin, B, T, H, D, pos0, interleaved),
    ropeBackward: (dx, dout, cos, sin, B, T, H, D, pos0, interleaved, accumulate) =>
      K.ropeBackward(dx, dout, cos, sin, B, T, H, D, pos0, interleaved, accumulate),
    attentionForward: (out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale) =>
      K.attentionForward(out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale),
    attentionBackward: (dq, dk, dv, dout, q, k, v, out, lse, B, Tq, Tk, Tcap, H, KVH, D, scale, accDq, accDk, accDv) => {
      // the native kernel adds into its outputs: an overwritten output starts from zeros
      if (!accDq) (dq as Float32Array).fill(0, 0, B * Tq * H * D);
      if (!accDk) (dk as Float32Array).fill(0, 0, B * Tcap * KVH * D);
      if (!accDv) (dv as Float32Array).fill(0, 0, B * Tcap * KVH * D);
      K.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, B, Tq, Tk, Tcap, H, KVH, D, scale);
    },
    attentionDecode: (out, q, k, v, kc, vc, pos, S, H, KVH, D, scale) => K.attentionDecode(out, q, k, v, kc, vc, pos, S, H, KVH, D, scale),
    swigluForward: (out, gate, up, c) => K.swigluForward(out, gate, up, c),
    swigluBackward: (dgate, dup, dout, gate, up, c, accGate, accUp) => K.swigluBackward(dgate, dup, dout, gate, up, c, accGate, accUp),
    softmaxForward: (out, x, N, C) => K.softmaxForward(out, x, N, C),
    softmaxBackward: (dx, dout, out, N, C, accumulate) => K.softmaxBackward(dx, dout, out, N, C, accumulate),
    logSoftmaxForward: (out, x, N, C) => K.logSoftmaxForward(out, x, N, C),
    logSoftmaxBackward: (dx, dout, out, N, C, accumulate) => K.logSoftmaxBackward(dx, dout, out, N, C, accumulate),
    logprobGatherForward: (out, lse, logits, targets, N, V, ignoreIndex) => K.logprobGatherForward(out, lse, logits, targets, N, V, ignoreIndex),
    logprobGatherBackward: (dlogits, dout, logits, lse, targets, N, V, ignoreIndex, accumulate) =>
      K.logprobGatherBackward(dlogits, dout, logits, lse, targets, N, V, ignoreIndex, accumulate),

    // ---- optimizer ----
    // the guard lives in host memory here, so the host reads it (free) instead of the kernel
    adamwStep: (param, grad, m, v, c, lr, beta1, beta2, eps, weightDecay, step, guard: FBuf | null) => {
      if (guard && !Number.isFinite(guard[0])) return;
      K.adamwStep(param, grad, m, v, c, lr, beta1, beta2, eps, weightDecay, step);
    },

    // ---- fused batch-1 decode (decode.cc): one native call a token ----
    createDecoder(spec: FusedDecodeSpec): FusedDecoder {
      // a weight: its fp32 buffer, and the packed copy the backend's matmul would read, if any
      const weight = (w: AnyBuf, N: number, K: number): (FBuf | Uint16Array | Uint8Array | null)[] => {
        const p = nPacked > 0 ? packed.get(w) : undefined;
        if (p === undefined || p.N !== N || p.K !== K) return [w as FBuf, null, null];
        return [w as FBuf, p.data, p.format === 'q8' ? p.scales : null];
      };
      const { hidden: d, heads: H, kvHeads: KVH, headDim: D, ffn: F, vocab: V } = spec;
      const bufs: (FBuf | Uint16Array | Uint8Array | null)[] = [spec.embed as FBuf, spec.finalNorm as FBuf, spec.cos as FBuf, spec.sin as FBuf, ...weight(spec.lmHead, V, d)];
      for (const l of spec.layers) {
        bufs.push(l.inputNorm as FBuf, l.qNorm as FBuf | null, l.kNorm as FBuf | null, l.postNorm as FBuf, l.kCache as FBuf, l.vCache as FBuf);
        bufs.push(...weight(l.wq, H * D, d), ...weight(l.wk, KVH * D, d), ...weight(l.wv, KVH * D, d), ...weight(l.wo, d, H * D));
        bufs.push(...weight(l.wGate, F, d), ...weight(l.wUp, F, d), ...weight(l.wDown, d, F));
      }
      const dims = Int32Array.of(spec.layers.length, d, H, KVH, D, F, V, spec.capacity, spec.interleaved ? 1 : 0);
      // the handle holds raw pointers into `bufs`: this closure keeps them alive as long as it is used
      let handle: unknown = n.decoderCreate(dims, spec.eps, bufs);
      let kept: unknown[] | null = bufs;
      return {
        step(token: number, pos: number, logits: Float32Array): void {
          if (handle === null || kept === null) throw new Error('the fused decoder was disposed');
          n.decoderStep(handle, token, pos, logits);
        },
        dispose(): void {
          handle = null;
          kept = null;
        },
      };
    },

    // ---- settings ----
    setThreads(t: number): void {
      if (!Number.isInteger(t) || t < 1) throw new Error(`setThreads: expected a positive integer, got ${t}`);
      n.setThreads(t);
    },
    getThreads: () => n.getThreads(),
    isa: () => n.getIsa(),
    setIsa: (name) => n.setIsa(name),
    setMatmulPrecision: (p: 'fp32' | 'bf16') => n.setMatmulPrecision(p),
    matmulPrecision: () => n.getMatmulPrecision(),
  };
  return backend;
}

