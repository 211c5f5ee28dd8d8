// The WebGPU backend (Node): WGSL kernels on any Metal, Vulkan or D3D12 GPU through Dawn (the
// optional `webgpu` package). The device lives in a worker thread (worker.ts), because WebGPU
// reads results back only through promises while the Backend contract is synchronous: kernel
// calls are queued here and posted to the worker in batches (no round trip), and only
// download/synchronize block, in Atomics.wait, until the worker has answered. Within a training
// step nothing is read back, so the GPU runs the whole step from one batch or a few.
//
// Buffers are WebgpuBuffer handles (an id the worker maps to a pooled GPUBuffer); dtypes float32
// and int32. A GPU error (WGSL validation, out of memory) is reported by the next read.
import type { Backend, Buf, DeviceBuffer, FusedDecodeSpec, FusedDecoder } from '../backend.js';
import { allocHost, type DType, type HostArray } from '../../core/dtype.js';
import type { AdapterSummary } from './runtime.js';
import { probeAdapter } from './adapter.js';
import type { Call, Sync } from './worker.js';
import { startThread } from './thread.js';

export type { AdapterSummary };

class WebgpuBuffer implements DeviceBuffer {
  readonly device = 'webgpu' as const;
  /** The worker's buffer id (DeviceBuffer.ptr). */
  constructor(readonly ptr: number, readonly dtype: DType, readonly size: number) {}
}

export interface WebgpuBackend extends Backend {
  readonly adapter: AdapterSummary;
  /** Bytes held by live buffers and cached in the pool (a round trip to the worker). */
  memoryStats(): { live: number; cached: number };
  /** Gives pooled buffers back to the driver. */
  releaseCached(): void;
  synchronize(): void;
}

/** Every kernel of the Backend contract, forwarded to the worker under its own name. */
const KERNELS = ['fill', 'copy', 'add', 'mul', 'affine', 'axpy', 'sumSquares', 'clipScale', 'unaryForward', 'unaryBackward', 'matmul',
  'embeddingForward', 'embeddingBackward', 'rowScaleForward', 'rowScaleBackward', 'topk', 'gatherForward', 'gatherBackward',
  'permute', 'sliceCopy', 'sliceScatter', 'sumAxis', 'sumAxisBackward', 'rmsnormForward', 'rmsnormBackward', 'ropeForward', 'ropeBackward',
  'attentionForward', 'attentionBackward', 'swigluForward', 'swigluBackward', 'softmaxForward', 'softmaxBackward',
  'logSoftmaxForward', 'logSoftmaxBackward', 'logprobGatherForward', 'logprobGatherBackward', 'adamwStep'] as const;

/** Calls queued before a batch is posted without waiting for a read. */
const BATCH = 512;
/** How long a read may wait for the worker before the backend gives up (a hung or lost device). */
const TIMEOUT_MS = 600_000;

let cached: WebgpuBackend | null | undefined;
let loadError: string | null = null;

/** The WebGPU backend, or null when no adapter can be had (webgpuLoadError says why). */
export function loadWebgpuBackend(): WebgpuBackend | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    cached = start();
  } catch (e) {
    loadError = (e as Error).message;
  }
  return cached;
}

export function webgpuLoadError(): string | null {
  return loadError;
}

function start(): WebgpuBackend {
  // asked in a child process first: where there is no adapter, Dawn's own warnings stay out of our output
  const probe = probeAdapter();
  if ('error' in probe) throw new Error(probe.error);
  const sab = new SharedArrayBuffer(16 + 64 * 1024);
  const worker = startThread(sab);
  waitFor(sab, 60_000, 'starting WebGPU');
  const adapter = JSON.parse(text(sab)) as AdapterSummary;

  let pending: Call[] = [];
  let scheduled = false;
  let nextId = 1;
  let nextDecoder = 1;
  let live = 0;
  const post = (sync?: Sync): void => {
    const dead = worker.failed();
    if (dead) throw new Error(`the WebGPU worker stopped: ${dead}`);
    worker.post({ calls: pending, sync });
    pending = [];
  };
  const flushSoon = (): void => {
    // work queued by code that then awaits something reaches the GPU without waiting for a read
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (pending.length) post();
    });
  };
  const enqueue = (call: Call): void => {
    pending.push(call);
    if (pending.length >= BATCH) post();
    else flushSoon();
  };
  const request = (kind: 'read' | 'idle' | 'stats' | 'release', bytes = 0, id = 0): SharedArrayBuffer => {
    const s = new SharedArrayBuffer(16 + Math.max(bytes, 4096));
    post({ sab: s, kind, id, bytes } as Sync);
    waitFor(s, TIMEOUT_MS, 'a WebGPU read');
    return s;
  };
  const id = (b: unknown): number => {
    if (b instanceof WebgpuBuffer) return b.ptr;
    throw new Error('a CPU tensor was given to a WebGPU kernel: operands of one op must live on one backend (move it with tensor.to(backend))');
  };
  const arg = (a: unknown): unknown => {
    if (a instanceof WebgpuBuffer) return a.ptr;
    if (ArrayBuffer.isView(a)) return id(a);
    return a;
  };

  const alloc = (dtype: DType, size: number): WebgpuBuffer => {
    if (dtype === 'float64') throw new Error('the WebGPU backend has no float64 (gradient checks run on the js backend)');
    const b = new WebgpuBuffer(nextId++, dtype, size);
    live += size * 4;
    enqueue(['alloc', b.ptr, dtype, size]);
    return b;
  };

  const backend: Record<string, unknown> & { free(b: Buf): void } = {
    name: 'webgpu',
    device: 'webgpu',
    adapter,
    alloc,
    free(buf: Buf): void {
      const b = buf as WebgpuBuffer;
      live -= b.size * 4;
      enqueue(['free', id(b)]);
    },
    upload(host: HostArray): Buf {
      if (host instanceof Float64Array) throw new Error('the WebGPU backend has no float64 (gradient checks run on the js backend)');
      const b = alloc(host instanceof Int32Array ? 'int32' : 'float32', host.length);
      if (host.length > 0) enqueue(['write', b.ptr, host.slice()]);
      return b;
    },
    download(buf: Buf): HostArray {
      const b = buf as WebgpuBuffer;
      const host = allocHost(b.dtype, b.size);
      if (b.size === 0) return host;
      const s = request('read', b.size * 4, id(b));
      new Uint8Array(host.buffer).set(new Uint8Array(s, 16, b.size * 4));
      return host;
    },
    liveBytes: () => live,
    memoryStats: () => JSON.parse(text(request('stats'))),
    releaseCached: () => { request('release'); },
    synchronize: () => { request('idle'); },
    // the fused decode step (kernels/decode.ts): one message and one read of the logits per token
    createDecoder(spec: FusedDecodeSpec): FusedDecoder {
      const handle = nextDecoder++;
      const logits = alloc('float32', spec.vocab);
      const ids = (o: object): object => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof WebgpuBuffer ? v.ptr : v]));
      enqueue(['decoderCreate', handle, { ...ids(spec), layers: spec.layers.map(ids) }, logits.ptr]);
      let open = true;
      return {
        step(token: number, pos: number, out: Float32Array): void {
          if (!open) throw new Error('the fused decoder was disposed');
          enqueue(['decoderStep', handle, token, pos]);
          const s = request('read', spec.vocab * 4, logits.ptr);
          out.set(new Float32Array(s, 16, spec.vocab));
        },
        dispose(): void {
          if (!open) return;
          open = false;
          enqueue(['decoderFree', handle]);
          backend.free(logits);
        },
      };
    },
  };
  for (const name of KERNELS) backend[name] = (...args: unknown[]) => enqueue([name, ...args.map((a) => (Array.isArray(a) ? a.map(arg) : arg(a)))]);
  return backend as unknown as WebgpuBackend;
}

/** Blocks until the worker answers in `sab` (see worker.ts); throws the error it reports. */
function waitFor(sab: SharedArrayBuffer, timeoutMs: number, what: string): void {
  const head = new Int32Array(sab, 0, 4);
  if (Atomics.wait(head, 0, 0, timeoutMs) === 'timed-out') throw new Error(`${what}: no answer from the WebGPU worker in ${timeoutMs / 1000} s`);
  if (Atomics.load(head, 0) === 2) throw new Error(text(sab));
}

/** The answer's payload as text. */
function text(sab: SharedArrayBuffer): string {
  return new TextDecoder().decode(new Uint8Array(sab, 16, new Int32Array(sab, 0, 4)[1]).slice());
}
