// The WebGPU backend's worker thread (Node). WebGPU reads results back only through promises
// (mapAsync), which a synchronous Backend cannot await, so the device lives here: the backend
// (index.ts) posts batches of kernel calls, and for a read it posts the batch with a shared buffer
// and blocks in Atomics.wait until this thread has written the result there.
//
// Messages: { calls: Call[], sync?: Sync }. A call is [name, ...args] with buffers as ids:
// ['alloc', id, dtype, size], ['free', id], ['write', id, data], ['decoderCreate', handle, spec,
// logits id] / ['decoderStep', handle, token, pos] / ['decoderFree', handle], or a kernel name. A sync is
// answered in its shared buffer: int32 [0] state (1 done, 2 error), [1] payload bytes; payload at 16.
import { gpu as getGpu, onMessage, startData } from './host.js';
import { Runtime, type AdapterSummary } from './runtime.js';
import { kernels } from './kernels/index.js';
import { describeAdapter } from './describe.js';
import { Decoder, type DecoderSpec } from './kernels/decode.js';

export type Call = [string, ...unknown[]];
export type Sync = { sab: SharedArrayBuffer } & ({ kind: 'read'; id: number; bytes: number } | { kind: 'idle' } | { kind: 'stats' } | { kind: 'release' });

let rt: Runtime | null = null;
/** Dawn's instance and adapter must outlive the device: freeing them under it crashes the process. */
const keep: unknown[] = [];
let chain: Promise<void> = Promise.resolve();
const decoders = new Map<number, Decoder>();

function answer(sab: SharedArrayBuffer, state: 1 | 2, payload: Uint8Array): void {
  const head = new Int32Array(sab, 0, 4);
  const room = sab.byteLength - 16;
  new Uint8Array(sab, 16, Math.min(room, payload.length)).set(payload.subarray(0, room));
  head[1] = Math.min(room, payload.length);
  Atomics.store(head, 0, state);
  Atomics.notify(head, 0);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function init(): Promise<void> {
  const { sab, powerPreference } = await startData();
  try {
    const gpu = await getGpu();
    const adapter = await gpu.requestAdapter({ powerPreference: powerPreference ?? 'high-performance' });
    if (!adapter) throw new Error('no WebGPU adapter was found (no Metal, Vulkan or D3D12 device with WebGPU support)');
    keep.push(gpu, adapter);
    const wanted = ['shader-f16', 'subgroups', 'timestamp-query'].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: wanted,
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    const summary: AdapterSummary = {
      ...describeAdapter(adapter.info),
      features: [...device.features],
      maxBufferBytes: Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize),
    };
    rt = new Runtime(device, summary);
    answer(sab, 1, text(JSON.stringify(summary)));
  } catch (e) {
    answer(sab, 2, text((e as Error).message));
  }
}

function run(calls: Call[]): void {
  const r = rt!;
  for (const [name, ...args] of calls) {
    try {
      if (name === 'alloc') r.alloc(args[0] as number, args[1] as 'float32' | 'int32', args[2] as number);
      else if (name === 'free') r.free(args[0] as number);
      else if (name === 'write') r.write(args[0] as number, args[1] as ArrayBufferView);
      else if (name === 'decoderCreate') decoders.set(args[0] as number, new Decoder(r, args[1] as DecoderSpec, args[2] as number));
      else if (name === 'decoderStep') decoders.get(args[0] as number)!.step(args[1] as number, args[2] as number);
      else if (name === 'decoderFree') { decoders.get(args[0] as number)?.dispose(); decoders.delete(args[0] as number); }
      else {
        const k = kernels[name];
        if (!k) throw new Error(`the WebGPU backend has no kernel '${name}'`);
        k(r, ...args);
      }
    } catch (e) {
      r.error ??= `${name}: ${(e as Error).message}`;
    } finally {
      r.endScratch();
    }
  }
  r.submit();
}

async function sync(s: Sync): Promise<void> {
  const r = rt!;
  try {
    let payload: Uint8Array = new Uint8Array(0);
    if (s.kind === 'read') payload = new Uint8Array(await r.read(s.id, s.bytes));
    else if (s.kind === 'idle') await r.idle();
    else if (s.kind === 'release') { await r.idle(); r.releaseCached(); }
    else payload = text(JSON.stringify({ live: r.liveBytes, cached: r.pooledBytes }));
    if (r.error) {
      const e = r.error;
      r.error = null;
      throw new Error(e);
    }
    answer(s.sab, 1, payload);
  } catch (e) {
    answer(s.sab, 2, text((e as Error).message));
  }
}

onMessage((message) => {
  const msg = message as { calls: Call[]; sync?: Sync };
  chain = chain.then(async () => {
    run(msg.calls);
    if (msg.sync) await sync(msg.sync);
  });
});

chain = init();
