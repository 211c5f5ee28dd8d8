// The CUDA backend: a thin TypeScript wrapper over the CUDA addon (build-cuda/minimind_cuda.node,
// built by nvcc at `npm install` where nvcc exists; see scripts/build-cuda.mjs). Buffers are
// DeviceBuffer handles (a device address and its dtype); only upload/download cross to the host,
// and both wait for the queue, so a kernel error surfaces at the next host read at the latest.
// cuBLAS is loaded at run time from the CUDA installation (MINIMIND_CUBLAS overrides the path).
// Memory: a caching allocator in the addon (freed blocks are reused by size, as PyTorch's is).
// dtypes: float32 and int32; bf16 is a GEMM precision (setMatmulPrecision), as on the CPU backend,
// and a storage precision of activations (allocLowPrecision; src/ops/precision.ts): a CudaBuffer
// says whether it holds bf16, and the kernels that take either precision get a flag per operand.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, Buf, DeviceBuffer, FBuf, FusedDecodeSpec, FusedDecoder, IBuf, MatmulPrecision, UnaryOp } from '../backend.js';
import { allocHost, type DType, type HostArray } from '../../core/dtype.js';
import { packageRoot } from '../package-root.js';

interface Addon {
  init(device: number): { name: string; totalMemory: number; multiprocessors: number; capability: number };
  alloc(bytes: number): number;
  free(ptr: number): void;
  upload(ptr: number, host: HostArray): void;
  download(ptr: number, host: HostArray): void;
  synchronize(): void;
  memoryStats(): { live: number; cached: number; peak: number };
  resetPeak(): void;
  setMemoryLimit(bytes: number): void;
  releaseCached(): void;
  setMatmulPrecision(p: string): void;
  [kernel: string]: (...args: any[]) => any;
}

export interface CudaBackend extends Backend {
  readonly deviceName: string;
  readonly totalMemory: number;
  /** Device bytes held by live tensors, cached for reuse, and the peak of live since resetPeak. */
  memoryStats(): { live: number; cached: number; peak: number };
  resetPeak(): void;
  /**
   * Caps the device memory the allocator holds (live and cached blocks; 0 = the whole card): an
   * allocation past it fails as on a full card, with an error isOutOfMemory() recognises
   * (--max-gpu-memory: a smaller card, simulated).
   */
  setMemoryLimit(bytes: number): void;
  /** Gives cached blocks back to the driver. */
  releaseCached(): void;
  setMatmulPrecision(p: MatmulPrecision): MatmulPrecision;
  matmulPrecision(): MatmulPrecision;
  synchronize(): void;
  /** NCCL (nccl.cc, libnccl loaded at first use): one communicator per process, for data parallelism. */
  readonly nccl: Nccl;
  /** With MINIMIND_CUDA_PROFILE=1: GPU milliseconds per kernel (GEMMs per shape) since the last call, from CUDA events. */
  profileReport(): { kernel: string; calls: number; ms: number }[];
}

export interface Nccl {
  /** NCCL's version code (e.g. 22703); throws when libnccl cannot be loaded. */
  version(): number;
  /** A new 128-byte unique id (rank 0 makes it; the rendezvous hands it to the others). */
  getUniqueId(): Uint8Array;
  /** Joins the communicator; blocks until all `nranks` ranks have. */
  init(id: Uint8Array, nranks: number, rank: number): void;
  /** Sums float32 buffers in place across ranks, as one NCCL group, queued on the backend's stream. */
  allReduce(bufs: Buf[]): void;
  abort(): void;
  destroy(): void;
}

const UNARY: Record<UnaryOp, number> = { exp: 0, log: 1, silu: 2, sigmoid: 3, logsigmoid: 4 };

class CudaBuffer implements DeviceBuffer {
  readonly device = 'cuda' as const;
  /** lowp: holds `size` bf16 values (a lowPrecisionCopy, or a bf16 activation). */
  constructor(readonly ptr: number, readonly dtype: DType, readonly size: number, readonly lowp = false) {}
}

let loadError: string | null = null;
let cached: CudaBackend | null | undefined;

/** Path of the built addon (MINIMIND_CUDA_ADDON overrides it). */
export function cudaAddonPath(): string {
  return process.env.MINIMIND_CUDA_ADDON ?? join(packageRoot(), 'build-cuda', 'minimind_cuda.node');
}

/** The CUDA backend, or null when it is not built or no usable GPU is present (see cudaLoadError). */
export function loadCudaBackend(): CudaBackend | null {
  if (cached !== undefined) return cached;
  cached = null;
  const path = cudaAddonPath();
  if (!existsSync(path)) {
    loadError = existsSync('/usr/local/cuda/bin/nvcc') || process.env.CUDA_HOME
      ? 'the CUDA backend is not built (run `npm run build:cuda`)'
      : 'the CUDA backend is not built (no nvcc was found at install; install the CUDA toolkit and run `npm run build:cuda`)';
    return null;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Addon;
    // one process per GPU under `minimind launch` (torchrun's LOCAL_RANK) unless a device is named
    const info = addon.init(Number(process.env.MINIMIND_CUDA_DEVICE ?? process.env.LOCAL_RANK ?? 0));
    cached = makeBackend(addon, info);
    if (process.env.MINIMIND_CUDA_PROFILE === '1') profile(cached, addon);
  } catch (e) {
    loadError = (e as Error).message.split('\n')[0];
  }
  return cached;
}

export function cudaLoadError(): string | null {
  return loadError;
}

function makeBackend(n: Addon, info: { name: string; totalMemory: number }): CudaBackend {
  let precision: MatmulPrecision = 'fp32';
  // The addon checks every address against its live blocks; a host array is caught here.
  const p = (b: Buf): number => {
    const ptr = (b as DeviceBuffer).ptr;
    if (ptr === undefined) throw new Error('a CPU tensor was given to a CUDA kernel: operands of one op must live on one backend (move it with tensor.to(backend))');
    return ptr;
  };
  const K = n;
  const lowp = (b: Buf): boolean => (b as CudaBuffer).lowp === true;
  // kernels whose output has their input's precision: the flag for both, and a clear error for a mix
  const same = (a: Buf, b: Buf, op: string): boolean => {
    if (lowp(a) !== lowp(b)) throw new Error(`${op}: operands mix bf16 and float32 storage (see src/ops/precision.ts)`);
    return lowp(a);
  };
  const ptrs = (bs: Buf[]): Float64Array => Float64Array.from(bs, p);
  // a bf16 gradient output is only ever overwritten (core/autograd.ts makes it float32 before a sum)
  const written = (g: Buf, accumulate: boolean, op: string): boolean => {
    if (lowp(g) && accumulate) throw new Error(`${op}: cannot add into a bf16 gradient`);
    return lowp(g);
  };
  const rowsOf = (b: Buf, C: number): number => Math.floor((b as DeviceBuffer).size / Math.max(C, 1));
  const scratch = new Map<number, CudaBuffer>();  // attention backward's delta, by size
  function scratchOf(size: number): CudaBuffer {
    let s = scratch.get(size);
    if (!s) {
      if (scratch.size > 8) scratch.clear();  // sizes rarely vary; do not hoard (blocks go back on process exit)
      s = new CudaBuffer(n.alloc(size * 4), 'float32', size);
      scratch.set(size, s);
    }
    return s;
  }

  const backend: CudaBackend = {
    name: 'cuda',
    device: 'cuda',
    deviceName: info.name,
    totalMemory: info.totalMemory,

    // ---- memory ----
    alloc(dtype: DType, size: number): Buf {
      if (dtype === 'float64') throw new Error('the CUDA backend has no float64 (gradient checks run on the js backend)');
      return new CudaBuffer(n.alloc(Math.max(size, 1) * 4), dtype, size);
    },
    free(buf: Buf): void {
      n.free(p(buf));
    },
    upload(host: HostArray): Buf {
      if (host instanceof Float64Array) throw new Error('the CUDA backend has no float64 (gradient checks run on the js backend)');
      const b = backend.alloc(host instanceof Int32Array ? 'int32' : 'float32', host.length);
      if (host.length > 0) n.upload(p(b), host);
      return b;
    },
    download(buf: Buf): HostArray {
      const d = buf as DeviceBuffer;
      const host = allocHost(d.dtype, d.size);
      if (d.size > 0) n.download(d.ptr, host);
      return host;
    },
    liveBytes: () => n.memoryStats().live,
    memoryStats: () => n.memoryStats(),
    resetPeak: () => n.resetPeak(),
    setMemoryLimit: (bytes: number) => n.setMemoryLimit(bytes),
    releaseCached: () => n.releaseCached(),
    synchronize: () => n.synchronize(),
    setMatmulPrecision(q: MatmulPrecision): MatmulPrecision {
      n.setMatmulPrecision(q);
      precision = q;
      return q;
    },
    matmulPrecision: () => precision,
    profileReport: () => [],
    createDecoder(spec: FusedDecodeSpec): FusedDecoder {
      const dims = Int32Array.of(spec.layers.length, spec.hidden, spec.heads, spec.kvHeads, spec.headDim, spec.ffn, spec.vocab, spec.capacity, spec.interleaved ? 1 : 0);
      const bufs: (FBuf | null)[] = [spec.embed, spec.finalNorm, spec.lmHead, spec.cos, spec.sin];
      for (const l of spec.layers) bufs.push(l.inputNorm, l.wq, l.wk, l.wv, l.wo, l.qNorm, l.kNorm, l.postNorm, l.wGate, l.wUp, l.wDown, l.kCache, l.vCache);
      let handle: number | null = n.decoderCreate(dims, spec.eps, Float64Array.from(bufs, (b) => (b ? p(b) : 0)));
      return {
        step(token, pos, logits) {
          if (handle === null) throw new Error('the fused decoder was disposed');
          n.decoderStep(handle, token, pos, logits);
        },
        dispose() {
          if (handle !== null) n.decoderFree(handle);
          handle = null;
        },
      };
    },
    nccl: {
      version: () => n.ncclVersion(),
      getUniqueId: () => n.ncclGetUniqueId(),
      init: (id, nranks, rank) => n.ncclInit(id, nranks, rank),
      allReduce: (bufs) => n.ncclAllReduce(Float64Array.from(bufs, p), Float64Array.from(bufs, (b) => (b as DeviceBuffer).size)),
      abort: () => n.ncclAbort(),
      destroy: () => n.ncclDestroy(),
    },

    // ---- elementwise ----
    fill: (out, value, c) => K.fill(p(out), value, (out as DeviceBuffer).dtype === 'int32', c),
    copy: (out, x, c) => K.copy(p(out), p(x), c),
    add: (out, a, b, c) => K.add(p(out), p(a), p(b), c, lowp(a), lowp(b)),
    mul: (out, a, b, c) => K.mul(p(out), p(a), p(b), c),
    affine: (out, x, alpha, beta, c) => K.affine(p(out), p(x), alpha, beta, c),
    axpy: (out, x, alpha, c) => K.axpy(p(out), p(x), alpha, c),
    sumSquares: (out, x, c, acc) => K.sumSquares(p(out), p(x), c, acc),
    clipScale: (x, sumsq, maxNorm, c) => K.clipScale(p(x), p(sumsq), maxNorm, c),
    unaryForward: (op, out, x, c) => K.unaryForward(UNARY[op], p(out), p(x), c),
    unaryBackward: (op, dx, dout, x, out, c, acc) => K.unaryBackward(UNARY[op], p(dx), p(dout), p(x), p(out), c, acc),

    // ---- GEMM ----
    matmul: (out, a, b, M, N, Kd, tA, tB, acc) => K.matmul(p(out), p(a), p(b), M, N, Kd, tA, tB, acc, lowp(a), lowp(b), lowp(out)),
    // one call per layer for S decoding sequences with their own caches (serving); MINIMIND_CUDA_ATTENTION_DECODE=0 leaves it out
    ...(process.env.MINIMIND_CUDA_ATTENTION_DECODE === '0' ? {} : {
      attentionDecode(out: FBuf, q: FBuf, k: FBuf, v: FBuf, kc: FBuf[], vc: FBuf[], pos: Int32Array, S: number, H: number, KVH: number, D: number, scale: number): void {
        for (let s = 0; s < S; s++) {
          const cap = Math.min((kc[s] as CudaBuffer).size, (vc[s] as CudaBuffer).size) / (KVH * D); // (the addon checks whole blocks only)
          if (!(pos[s] >= 0 && pos[s] < cap)) throw new Error(`attentionDecode: the cache of sequence ${s} holds ${Math.floor(cap)} positions, too few for position ${pos[s]}`);
        }
        K.attentionDecode(p(out), p(q), p(k), p(v), Float64Array.from(kc.slice(0, S), p), Float64Array.from(vc.slice(0, S), p), pos.subarray(0, S), S, H, KVH, D, scale);
      },
    }),
    lowPrecisionCopy(x: FBuf, size: number): FBuf | null {
      if (precision !== 'bf16') return null;
      const copy = backend.allocLowPrecision!(size) as unknown as CudaBuffer;
      K.toBf16(copy.ptr, p(x), size);
      return copy as unknown as FBuf;
    },
    allocLowPrecision: (size: number): FBuf => new CudaBuffer(n.alloc(Math.max(size, 1) * 2), 'float32', size, true) as unknown as FBuf,
    fromLowPrecision(x: FBuf, size: number): FBuf {
      const f = backend.alloc('float32', size);
      K.toF32(p(f), p(x), size);
      return f as FBuf;
    },

    // ---- rows ----
    // the table's row count bounds every id on the device (see kernels.cu)
    embeddingForward: (out, ids, w, N, C) => K.embeddingForward(p(out), p(ids), p(w), N, C, rowsOf(w, C)),
    embeddingBackward: (dw, dout, ids, N, C) => K.embeddingBackward(p(dw), p(dout), p(ids), N, C, rowsOf(dw, C)),
    rowScaleForward: (out, x, w, N, C) => K.rowScaleForward(p(out), p(x), p(w), N, C),
    rowScaleBackward: (dx, dw, dout, x, w, N, C, accDx, accDw) => K.rowScaleBackward(p(dx), p(dw), p(dout), p(x), p(w), N, C, accDx, accDw),
    topk: (values, indices, x, N, C, k) => K.topk(p(values), p(indices), p(x), N, C, k),
    gatherForward: (out, x, idx, N, C, k) => K.gatherForward(p(out), p(x), p(idx), N, C, k),
    gatherBackward: (dx, dout, idx, N, C, k) => K.gatherBackward(p(dx), p(dout), p(idx), N, C, k),

    // ---- shape ----
    permute: (out, x, shape, perm, acc) => K.permute(p(out), p(x), Int32Array.from(shape), Int32Array.from(perm), acc),
    sliceCopy: (out, x, outer, dimIn, inner, start, len, acc) => K.sliceCopy(p(out), p(x), outer, dimIn, inner, start, len, acc),
    sliceScatter: (out, x, outer, dimOut, inner, start, len, acc) => K.sliceScatter(p(out), p(x), outer, dimOut, inner, start, len, acc),
    sumAxis: (out, x, outer, dim, inner) => K.sumAxis(p(out), p(x), outer, dim, inner),
    sumAxisBackward: (dx, dout, outer, dim, inner, acc) => K.sumAxisBackward(p(dx), p(dout), outer, dim, inner, acc),

    // ---- transformer ----
    rmsnormForward: (out, rstd, x, w, N, C, eps) => K.rmsnormForward(p(out), p(rstd), p(x), p(w), N, C, eps, lowp(x), lowp(out)),
    rmsnormBackward: (dx, dw, dout, x, w, rstd, N, C, accDx, accDw) => K.rmsnormBackward(p(dx), p(dw), p(dout), p(x), p(w), p(rstd), N, C, accDx, accDw, lowp(x), lowp(dout), written(dx, accDx, 'rmsnorm')),
    ropeForward: (out, x, cos, sin, B, T, H, D, pos0, il) => K.ropeForward(p(out), p(x), p(cos), p(sin), B, T, H, D, pos0, il, same(out, x, 'rope')),
    ropeBackward: (dx, dout, cos, sin, B, T, H, D, pos0, il, acc) => K.ropeBackward(p(dx), p(dout), p(cos), p(sin), B, T, H, D, pos0, il, acc, lowp(dout), written(dx, acc, 'rope')),
    attentionForward: (out, lse, q, k, v, B, Tq, Tk, Tcap, H, KVH, D, scale) =>
      K.attentionForward(p(out), p(lse), p(q), p(k), p(v), B, Tq, Tk, Tcap, H, KVH, D, scale, same(out, q, 'attention'), lowp(k), lowp(v)),
    attentionBackward: (dq, dk, dv, dout, q, k, v, out, lse, B, Tq, Tk, Tcap, H, KVH, D, scale, accDq, accDk, accDv) =>
      K.attentionBackward(p(dq), p(dk), p(dv), p(dout), p(q), p(k), p(v), p(out), p(lse), scratchOf(B * H * Tq).ptr, B, Tq, Tk, Tcap, H, KVH, D, scale, accDq, accDk, accDv, lowp(q), lowp(k), lowp(v), lowp(out), lowp(dout)),
    swigluForward: (out, gate, up, c) => K.swigluForward(p(out), p(gate), p(up), c, same(out, gate, 'swiglu') && same(out, up, 'swiglu')),
    swigluBackward: (dgate, dup, dout, gate, up, c, accGate, accUp) =>
      K.swigluBackward(p(dgate), p(dup), p(dout), p(gate), p(up), c, accGate, accUp, same(gate, up, 'swiglu'), lowp(dout), written(dgate, accGate, 'swiglu') && written(dup, accUp, 'swiglu') && same(dgate, dup, 'swiglu')),
    softmaxForward: (out, x, N, C) => K.softmaxForward(p(out), p(x), N, C),
    softmaxBackward: (dx, dout, out, N, C, acc) => K.softmaxBackward(p(dx), p(dout), p(out), N, C, acc),
    logSoftmaxForward: (out, x, N, C) => K.logSoftmaxForward(p(out), p(x), N, C),
    logSoftmaxBackward: (dx, dout, out, N, C, acc) => K.logSoftmaxBackward(p(dx), p(dout), p(out), N, C, acc),
    logprobGatherForward: (out, lse, logits, t, N, V, ig) => K.logprobGatherForward(p(out), p(lse), p(logits), p(t), N, V, ig, lowp(logits)),
    logprobGatherBackward: (dl, dout, logits, lse, t, N, V, ig, acc) => K.logprobGatherBackward(p(dl), p(dout), p(logits), p(lse), p(t), N, V, ig, acc, lowp(logits), written(dl, acc, 'logprobGather')),

    // ---- optimizer ----
    adamwStep: (param, grad, m, v, c, lr, b1, b2, eps, wd, step, guard) => K.adamwStep(p(param), p(grad), p(m), p(v), c, lr, b1, b2, eps, wd, step, guard ? p(guard) : 0),
    adamwStepMulti: (params, grads, m, v, sizes, lr, b1, b2, eps, wd, step, guard) =>
      K.adamwStepMulti(ptrs(params), ptrs(grads), ptrs(m), ptrs(v), Float64Array.from(sizes), lr, b1, b2, eps, wd, step, guard ? p(guard) : 0),
    sumSquaresMulti: (out, xs, sizes, acc) => K.sumSquaresMulti(p(out), ptrs(xs), Float64Array.from(sizes), acc),
    clipScaleMulti: (xs, sizes, sumsq, maxNorm) => K.clipScaleMulti(ptrs(xs), Float64Array.from(sizes), p(sumsq), maxNorm),
  };
  return backend;
}

// Development aid: the GPU time of every backend call, from CUDA events recorded around it on the
// stream (no host sync in between, so the step runs as it would unprofiled, plus the event records).
// GEMMs are listed by shape. Read with profileReport(), which waits for the queue.
const NOT_KERNELS = new Set(['alloc', 'free', 'upload', 'download', 'liveBytes', 'memoryStats', 'resetPeak', 'setMemoryLimit', 'releaseCached', 'synchronize', 'setMatmulPrecision', 'matmulPrecision', 'allocLowPrecision', 'profileReport', 'createDecoder']);
function profile(be: CudaBackend, n: Addon): void {
  let names: string[] = [];
  const target = be as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(target)) {
    if (typeof fn !== 'function' || NOT_KERNELS.has(name)) continue;
    target[name] = (...args: unknown[]) => {
      // matmul(out, a, b, M, N, K, transA, transB, accumulate)
      names.push(name === 'matmul' ? `matmul ${args[3]}x${args[4]}x${args[5]}${args[6] ? ' tA' : ''}${args[7] ? ' tB' : ''}` : name);
      n.profMark();
      const r = (fn as (...a: unknown[]) => unknown)(...args);
      n.profMark();
      return r;
    };
  }
  be.profileReport = () => {
    const ms = n.profCollect() as Float64Array;
    const table = new Map<string, { calls: number; ms: number }>();
    names.forEach((name, i) => {
      const e = table.get(name) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += ms[i] ?? 0;
      table.set(name, e);
    });
    names = [];
    return [...table].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
  };
}

export type { FBuf, IBuf };
