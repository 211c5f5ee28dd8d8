// Tensor: a shape, a dtype and a buffer on a backend. Host code reads values only through
// toArray() / item(), so the same code runs when buffers live on a GPU.
//
// Memory is explicit: buffers are not owned by the JS garbage collector's sense of size, so every
// tensor is registered with the innermost scope (see scope.ts) and freed when that scope ends,
// unless it was kept. reshape() makes a view that shares the storage; the storage is freed when
// its last view is disposed.
import type { Backend, Buf, FBuf } from '../backends/backend.js';
import { sizeOf, type DType, type HostArray } from './dtype.js';
import { getBackend } from './device.js';
import { track } from './scope.js';
import type { Node } from './tape.js';

export class Storage {
  refs = 1;
  /**
   * The values rounded to bf16, for GEMMs and kernels that read bf16 (bf16 activations on a backend
   * that stores them; ops/matmul.ts, ops/precision.ts). With `buf` it is a copy made for a GEMM;
   * alone (buf null) the tensor is stored in bf16 only, and `fp32()` makes the float copy on demand.
   */
  lowp: Buf | null = null;
  /** Stored in bf16 (made so by a kernel); a float32 copy made later does not change that. */
  bf16: boolean;
  /**
   * Whether a bf16 tensor's gradient may be bf16 too (core/autograd.ts): false for one that several
   * readers send gradients to (a norm output read by q, k and v), whose sum is float32 anyway.
   */
  bf16Grad = true;
  constructor(readonly backend: Backend, public buf: Buf | null, lowp: Buf | null = null, private readonly size = 0) {
    this.lowp = lowp;
    this.bf16 = buf === null && lowp !== null;
  }
  /** The float32 buffer, made from the bf16 values at first use when the storage is bf16 only. */
  fp32(): Buf | null {
    if (!this.buf && this.lowp && this.refs > 0) this.buf = this.backend.fromLowPrecision!(this.lowp as FBuf, this.size);
    return this.buf;
  }
  /**
   * Makes a bf16 storage a float32 one (its values, exactly): for a bf16 gradient that a kernel
   * without a bf16 path is about to add into. Shared by every view.
   */
  toFloat32(): void {
    if (!this.bf16) return;
    this.fp32();
    if (this.lowp) this.backend.free(this.lowp);
    this.lowp = null;
    this.bf16 = false;
  }
  release(): void {
    if (--this.refs === 0) {
      if (this.buf) this.backend.free(this.buf);
      if (this.lowp) this.backend.free(this.lowp);
      this.buf = null;
      this.lowp = null;
    }
  }
}

export class Tensor {
  readonly size: number;
  requiresGrad = false;
  /** The gradient buffer, live or kept for reuse after zeroGrad() (see `grad`). */
  private gradBuf: Tensor | null = null;
  private gradLive = false;
  /** The autograd node that produced this tensor (null for leaves and no-grad results). */
  node: Node | null = null;
  /** Kept tensors (parameters, optimizer state) survive the end of scopes. */
  kept = false;
  private disposed = false;

  constructor(readonly storage: Storage, readonly shape: readonly number[], readonly dtype: DType) {
    this.size = sizeOf(shape);
    track(this);
  }

  /** The accumulated gradient, or null: none yet, or forgotten by zeroGrad(). */
  get grad(): Tensor | null {
    return this.gradLive ? this.gradBuf : null;
  }

  set grad(g: Tensor | null) {
    // a buffer kept by zeroGrad() that nothing will reuse any more
    if (!this.gradLive && this.gradBuf && this.gradBuf !== g) this.gradBuf.dispose();
    this.gradBuf = g;
    this.gradLive = g !== null;
  }

  /**
   * Forgets the gradient, as PyTorch's zero_grad(set_to_none=True) does, but keeps its buffer: the
   * next backward's first contribution overwrites it (no zero fill, no new allocation).
   */
  zeroGrad(): void {
    this.gradLive = false;
  }

  /** The buffer zeroGrad() kept (null if none): `t.grad = t.keptGrad()` makes it live again. */
  keptGrad(): Tensor | null {
    return this.gradLive ? null : this.gradBuf;
  }

  /** Frees the gradient buffer, live or kept. */
  disposeGrad(): void {
    this.gradBuf?.dispose();
    this.gradBuf = null;
    this.gradLive = false;
  }

  get backend(): Backend {
    return this.storage.backend;
  }

  /** The backend buffer, for ops and kernels. Throws after dispose(). */
  get buf(): Buf {
    const buf = this.disposed ? null : this.storage.fp32();
    if (!buf) throw new Error(`use of a disposed tensor of shape [${this.shape.join(', ')}]`);
    return buf;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Copies the values to a new host array. */
  toArray(): HostArray {
    return this.backend.download(this.buf);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a tensor with one element, got shape [${this.shape.join(', ')}]`);
    return this.toArray()[0];
  }

  /** A copy on another backend (device placement); the same tensor when already there. */
  to(backend: Backend): Tensor {
    if (backend === this.backend) return this;
    return new Tensor(new Storage(backend, backend.upload(this.toArray())), this.shape, this.dtype);
  }

  /** A view with another shape over the same storage (no copy). */
  reshape(shape: readonly number[]): Tensor {
    const s = [...shape];
    const infer = s.indexOf(-1);
    if (infer >= 0) s[infer] = this.size / sizeOf(s.filter((_, i) => i !== infer));
    if (sizeOf(s) !== this.size) throw new Error(`cannot reshape [${this.shape.join(', ')}] to [${shape.join(', ')}]`);
    this.storage.refs++;
    const view = new Tensor(this.storage, s, this.dtype);
    return reshapeHook(this, view);
  }

  /** Marks this tensor as long-lived: scopes will not free it. Returns this. */
  keep(): this {
    this.kept = true;
    return this;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
    this.node = null;
  }

  backward(): void {
    backwardHook(this);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, backend=${this.backend.name})`;
  }
}

// autograd.ts installs these (it imports Tensor, so the dependency runs one way at load time).
let reshapeHook: (src: Tensor, view: Tensor) => Tensor = (_s, v) => v;
let backwardHook: (t: Tensor) => void = () => {
  throw new Error('autograd not loaded');
};
export function installAutogradHooks(reshape: typeof reshapeHook, backward: typeof backwardHook): void {
  reshapeHook = reshape;
  backwardHook = backward;
}

// ---- constructors ----

/**
 * A float tensor stored in bf16 only (backend.allocLowPrecision), for kernels that write bf16
 * outputs; its float32 copy is made on first use of `buf` (ops/precision.ts says when ops make these).
 */
export function emptyLowPrecision(shape: readonly number[], backend: Backend): Tensor {
  const size = sizeOf(shape);
  return new Tensor(new Storage(backend, null, backend.allocLowPrecision!(size), size), shape, 'float32');
}

/** A tensor with unspecified contents: for outputs a kernel overwrites completely. */
export function empty(shape: readonly number[], dtype: DType = 'float32', backend: Backend = getBackend()): Tensor {
  return new Tensor(new Storage(backend, backend.alloc(dtype, sizeOf(shape))), shape, dtype);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32', backend: Backend = getBackend()): Tensor {
  const t = empty(shape, dtype, backend);
  backend.fill(t.buf, 0, t.size);
  return t;
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32', backend: Backend = getBackend()): Tensor {
  const t = empty(shape, dtype, backend);
  backend.fill(t.buf, value, t.size);
  return t;
}

/** Uploads host data. A plain number[] becomes float32 unless dtype says otherwise. */
export function tensor(data: HostArray | number[], shape?: readonly number[], dtype?: DType, backend: Backend = getBackend()): Tensor {
  let host: HostArray;
  if (Array.isArray(data)) {
    const dt = dtype ?? 'float32';
    host = dt === 'int32' ? Int32Array.from(data) : dt === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
  } else {
    host = data;
    if (dtype) {
      const want = dtype === 'int32' ? Int32Array : dtype === 'float64' ? Float64Array : Float32Array;
      if (!(host instanceof want)) host = want.from(host as ArrayLike<number>);
    }
  }
  const s = shape ?? [host.length];
  if (sizeOf(s) !== host.length) throw new Error(`tensor(): ${host.length} values do not fill shape [${s.join(', ')}]`);
  const dt: DType = host instanceof Int32Array ? 'int32' : host instanceof Float64Array ? 'float64' : 'float32';
  return new Tensor(new Storage(backend, backend.upload(host)), s, dt);
}
