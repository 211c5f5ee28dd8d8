// The GPU side of the WebGPU backend: one GPUDevice, a pool of storage buffers by size, compute
// pipelines and bind groups cached, and every dispatch of a batch recorded into one command
// encoder that is submitted once (at the end of a batch, before an upload, or when the uniform
// arena fills). It runs where the device lives: in Node, the backend's worker thread (worker.ts);
// in a page, the page itself. Buffers are named by the integer ids the backend hands out.
//
// Ordering: all work goes through one queue in submission order, so a buffer freed right after
// the dispatches that use it can go to the next allocation at once (a stream-ordered pool, as
// PyTorch's caching allocator on one CUDA stream). queue.writeBuffer runs ahead of any encoder not
// yet submitted, so an upload submits the open encoder first.
/// <reference types="@webgpu/types" />
import { kernelSource, type KernelDef } from './wgsl.js';
import type { AdapterInfo } from './adapter.js';

/** Bytes of one dispatch's parameters in the uniform arena (minUniformBufferOffsetAlignment). */
const PARAM_STRIDE = 256;
/** Dispatches recorded into one encoder before it is submitted (the arena holds their parameters). */
const ARENA_SLOTS = 4096;

interface Pooled {
  gpu: GPUBuffer;
  /** The pooled size (rounded up); elems 4-byte elements of dtype are in use. */
  bytes: number;
  dtype: 'float32' | 'int32';
  elems: number;
  /** Serial number, for bind-group cache keys. */
  uid: number;
}

export interface AdapterSummary extends AdapterInfo {
  /** The device's features (shader-f16, subgroups, ...). */
  features: string[];
  maxBufferBytes: number;
}

export class Runtime {
  private readonly buffers = new Map<number, Pooled>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly uids = new WeakMap<GPUBuffer, number>();
  private nextUid = 1;
  private encoder: GPUCommandEncoder | null = null;
  /** The open compute pass: consecutive dispatches share one (WebGPU orders and makes visible each dispatch's writes to the next). */
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: GPUBuffer;
  private readonly arenaHost = new ArrayBuffer(PARAM_STRIDE * ARENA_SLOTS);
  private arenaUsed = 0;
  private readonly scratchIds: number[] = [];
  private nextScratch = -1;
  /** The first GPU error since the last check (validation, out of memory), as a message. */
  error: string | null = null;
  liveBytes = 0;
  pooledBytes = 0;
  /** A small buffer bound where a kernel's optional input is absent (adamw's guard). */
  readonly dummy = -(2 ** 40);

  constructor(readonly device: GPUDevice, readonly summary: AdapterSummary) {
    this.arena = device.createBuffer({ size: PARAM_STRIDE * ARENA_SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.addEventListener('uncapturederror', (e) => {
      this.error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
    this.alloc(this.dummy, 'float32', 4);
  }

  // ---- memory ----

  /** Makes buffer `id` of `elems` 4-byte elements (contents unspecified), from the pool where one fits. */
  alloc(id: number, dtype: 'float32' | 'int32', elems: number): void {
    const size = roundBytes(elems * 4);
    const free = this.pool.get(size);
    let gpu = free?.pop();
    if (gpu) this.pooledBytes -= size;
    else gpu = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    if (!this.uids.has(gpu)) this.uids.set(gpu, this.nextUid++);
    this.buffers.set(id, { gpu, bytes: size, dtype, elems, uid: this.uids.get(gpu)! });
    this.liveBytes += size;
  }

  free(id: number): void {
    const b = this.buffers.get(id);
    if (!b) return;
    this.buffers.delete(id);
    this.liveBytes -= b.bytes;
    this.pooledBytes += b.bytes;
    let list = this.pool.get(b.bytes);
    if (!list) this.pool.set(b.bytes, (list = []));
    list.push(b.gpu);
  }

  /** Destroys the pooled (unused) buffers: their memory goes back to the driver. */
  releaseCached(): void {
    for (const list of this.pool.values()) for (const gpu of list) gpu.destroy();
    this.pool.clear();
    this.bindGroups.clear();
    this.pooledBytes = 0;
  }

  get(id: number): GPUBuffer {
    return this.entry(id).gpu;
  }

  /** Element count and dtype of buffer `id`, as allocated. */
  elems(id: number): number {
    return this.entry(id).elems;
  }

  dtype(id: number): 'float32' | 'int32' {
    return this.entry(id).dtype;
  }

  private entry(id: number): Pooled {
    const b = this.buffers.get(id);
    if (!b) throw new Error(`WebGPU buffer ${id} is not live (used after free?)`);
    return b;
  }

  /** An id for a buffer the worker itself owns (a decoder's intermediates); the backend's ids are positive. */
  privateId(): number {
    return this.nextScratch--;
  }

  /** A buffer for one kernel's intermediate (freed by endScratch at the end of that kernel). */
  scratch(elems: number): number {
    const id = this.nextScratch--;
    this.alloc(id, 'float32', elems);
    this.scratchIds.push(id);
    return id;
  }

  endScratch(): void {
    for (const id of this.scratchIds) this.free(id);
    this.scratchIds.length = 0;
  }

  /** Writes host data into buffer `id` from byte `offset`, after all work recorded so far. */
  write(id: number, data: ArrayBufferView, offset = 0): void {
    this.submit();
    if (data.byteLength > 0) this.device.queue.writeBuffer(this.get(id), offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Reads `bytes` bytes of buffer `id` after all work so far; rejects with a GPU error, if any came. */
  async read(id: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.copyEncoder().copyBufferToBuffer(this.get(id), 0, staging, 0, size);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /** Resolves when the queue is idle. */
  async idle(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
  }

  // ---- dispatch ----

  /**
   * Records one dispatch of kernel `def` (its WGSL from wgsl.ts, variant by `def.key`) over buffers
   * `ids` (in the order of def.buffers), with `params` (def.params' order) in the uniform arena.
   * A buffer bound twice where one binding writes (an in-place call) is read through a copy, as
   * WebGPU forbids a writable binding that aliases another.
   */
  dispatch(def: KernelDef, ids: number[], params: number[], groups: [number, number?, number?]): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const { pipeline, layout } = this.pipeline(def);
    if (this.arenaUsed === ARENA_SLOTS) this.submit();
    const offset = this.arenaUsed++ * PARAM_STRIDE;
    const words = new DataView(this.arenaHost, offset, PARAM_STRIDE);
    def.params.forEach(([, type], i) => {
      const v = params[i];
      if (type === 'f32') words.setFloat32(i * 4, v, true);
      else if (type === 'i32') words.setInt32(i * 4, v, true);
      else words.setUint32(i * 4, v >>> 0, true);
    });
    const bufs = this.unalias(def, ids);
    const key = def.key + ':' + bufs.map((b) => this.uids.get(b)).join(',');
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size > 50000) this.bindGroups.clear();
      group = this.device.createBindGroup({
        layout,
        entries: [{ binding: 0, resource: { buffer: this.arena, size: PARAM_STRIDE } }, ...bufs.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
      });
      this.bindGroups.set(key, group);
    }
    const pass = (this.pass ??= this.commandEncoder().beginComputePass());
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [offset]);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
  }

  /** Submits everything recorded so far. */
  submit(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaHost, 0, this.arenaUsed * PARAM_STRIDE);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.arenaUsed = 0;
  }

  /** Records a buffer-to-buffer copy (bytes multiple of 4). */
  copyBuffer(dst: number, dstOffset: number, src: number, srcOffset: number, bytes: number): void {
    if (bytes > 0) this.copyEncoder().copyBufferToBuffer(this.get(src), srcOffset, this.get(dst), dstOffset, bytes);
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  /** The encoder for a command outside compute passes (a copy): the open pass ends first. */
  private copyEncoder(): GPUCommandEncoder {
    this.endPass();
    return this.commandEncoder();
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private unalias(def: KernelDef, ids: number[]): GPUBuffer[] {
    const bufs = ids.map((id) => this.get(id));
    for (let i = 0; i < bufs.length; i++) {
      for (let j = 0; j < bufs.length; j++) {
        if (i === j || bufs[i] !== bufs[j] || def.buffers[i][2] !== 'r') continue;
        if (def.buffers[j][2] === 'r') continue;
        const copy = this.scratch(bufs[i].size / 4);
        this.copyBuffer(copy, 0, ids[i], 0, bufs[i].size);
        bufs[i] = this.get(copy);
      }
    }
    return bufs;
  }

  private pipeline(def: KernelDef): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let p = this.pipelines.get(def.key);
    if (!p) {
      const layout = this.device.createBindGroupLayout({
        entries: [
          { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
          ...def.buffers.map(([, , access], i) => ({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: access === 'r' ? 'read-only-storage' as const : 'storage' as const } })),
        ],
      });
      const module = this.device.createShaderModule({ code: kernelSource(def, this.summary.features) });
      const pipeline = this.device.createComputePipeline({ layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
      p = { pipeline, layout };
      this.pipelines.set(def.key, p);
    }
    return p;
  }
}

/** Pool size classes: exact multiples of 256 bytes up to 1 MiB, then steps of 1/16 of the power of two. */
function roundBytes(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 1 << 20) return Math.ceil(b / 256) * 256;
  const step = 2 ** Math.floor(Math.log2(b)) / 16;
  return Math.ceil(b / step) * step;
}
