// Reads PyTorch checkpoints written by torch.save (the zip format, torch >= 1.6): MiniMind's `.pth`
// state dicts (fp16/fp32/bf16) and its resume checkpoints ({model, optimizer, epoch, step, ...}).
//
// Layout: a zip whose entries sit under one folder (`<archive>/data.pkl`, `<archive>/data/<key>`,
// `<archive>/byteorder`). data.pkl is a pickle in which every tensor is
// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks)` and
// each storage is a persistent id ('storage', torch.<Type>Storage, key, location, numel) naming
// `data/<key>`. The pickle is read by a safe VM that only knows the handful of globals a checkpoint
// uses: anything else (an arbitrary class or function) is refused, never run.
//
// Nothing is allocated on the file's word alone: a storage's declared size must match its entry,
// storages that must be inflated have to fit in memory, and a view's shape and strides must stay
// inside its storage. A view with more elements than its storage (stride 0, as `expand()` saves
// it) is copied out, so those copies share one small budget (EXPANDED_VIEW_BYTES): a 665-byte file
// cannot describe a 4.7 GB tensor. Every other strided view is copied out too, so all those copies
// together may hold at most twice the bytes the file's storages hold (plus the same budget): a pickle
// that views one stored tensor transposed a thousand times cannot make a thousand copies of it.

import { readWholeFile, typedView, numel, DTYPE_BYTES, type HostTensor, type StDType, type HostData } from './safetensors.js';
import { ZipReader } from './zip.js';
import { unpickle, type PyGlobal } from './pickle.js';
import { checkFitsInMemory } from '../core/memory.js';

/** All views of one checkpoint together may hold this many bytes more than their storages. */
const EXPANDED_VIEW_BYTES = 64 << 20;

/** torch.<Name>Storage -> dtype. */
const STORAGE_DTYPES: Record<string, StDType> = {
  HalfStorage: 'F16', FloatStorage: 'F32', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ByteStorage: 'U8', CharStorage: 'I8', BoolStorage: 'BOOL',
};

interface StorageRef { storageDtype: StDType }
interface Storage { dtype: StDType; bytes: Uint8Array; key: string }

/** The checkpoint as a tree of JS values (Map for dicts, Array for lists/tuples, HostTensor for tensors). */
export function readPthObject(file: string): unknown {
  const zip = new ZipReader(readWholeFile(file), file);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) {
    throw new Error(`${file}: not a PyTorch zip checkpoint (no data.pkl entry; TorchScript archives and legacy pre-1.6 files are not supported)`);
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little') throw new Error(`${file}: byteorder "${order}" is not supported (only little-endian)`);
  }

  const storages = new Map<string, Storage>();
  let inflatedBytes = 0;
  const loadStorage = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`${file}: unsupported persistent id ${describe(pid)}`);
    const [, type, key, , count] = pid as [string, StorageRef, string, string, unknown];
    if (typeof type !== 'object' || type === null || !('storageDtype' in type)) throw new Error(`${file}: persistent id without a storage type`);
    const k = String(key);
    let st = storages.get(k);
    if (!st) {
      const entry = `${prefix}data/${k}`;
      const ent = zip.entries.get(entry);
      if (!ent) throw new Error(`${file}: storage "${k}" missing (no entry ${entry}); truncated file?`);
      const esize = DTYPE_BYTES[type.storageDtype];
      if (typeof count !== 'number' || ent.size !== count * esize) {
        throw new Error(`${file}: storage "${k}" declares ${describe(count)} elements of ${type.storageDtype} but its entry holds ${ent.size} bytes; the file is damaged`);
      }
      if (ent.method !== 0) {
        // A stored entry is a view on the file; an inflated one is new memory.
        inflatedBytes += ent.size;
        checkFitsInMemory(inflatedBytes, `${file}: the compressed storages`, 'the file is damaged or hostile, or needs a machine with more memory');
      }
      st = { dtype: type.storageDtype, bytes: zip.read(entry), key: k };
      if (st.bytes.byteLength % DTYPE_BYTES[st.dtype] !== 0) {
        throw new Error(`${file}: storage "${k}" has ${st.bytes.byteLength} bytes, not a multiple of ${st.dtype}'s ${DTYPE_BYTES[st.dtype]}`);
      }
      storages.set(k, st);
      budget.storageBytes += st.bytes.byteLength;
    }
    return st;
  };

  const budget: ViewBudget = { expandedBytes: 0, copiedBytes: 0, storageBytes: 0 };
  const rebuildTensor = (args: unknown[]): HostTensor => {
    const [storage, offset, size, stride] = args as [Storage, unknown, unknown, unknown];
    if (!storage || !(storage.bytes instanceof Uint8Array)) throw new Error(`${file}: _rebuild_tensor_v2 without a storage`);
    const ints = (v: unknown, what: string): number[] => {
      if (!Array.isArray(v) || v.length > 64 || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
        throw new Error(`${file}: storage "${storage.key}": bad tensor ${what} ${describe(v)} (expected up to 64 non-negative integers)`);
      }
      return v as number[];
    };
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error(`${file}: storage "${storage.key}": bad storage offset ${describe(offset)}`);
    return viewToContiguous(storage, offset as number, ints(size, 'size'), ints(stride, 'stride'), file, budget);
  };

  const g = (name: string, call: (args: unknown[]) => unknown): PyGlobal => ({ name, call });
  const globals: Record<string, PyGlobal> = {
    'collections.OrderedDict': g('collections.OrderedDict', (a) => new Map(Array.isArray(a[0]) ? (a[0] as [unknown, unknown][]) : [])),
    'torch._utils._rebuild_tensor_v2': g('torch._utils._rebuild_tensor_v2', rebuildTensor),
    // nn.Parameter pickled directly (keep_vars=True state dicts): the data tensor is what we want
    'torch._utils._rebuild_parameter': g('torch._utils._rebuild_parameter', (a) => a[0]),
    'torch._utils._rebuild_parameter_with_state': g('torch._utils._rebuild_parameter_with_state', (a) => a[0]),
    // Tensor subclasses: _rebuild_from_type_v2(func, new_type, args, state) -> func(*args)
    'torch._tensor._rebuild_from_type_v2': g('torch._tensor._rebuild_from_type_v2', (a) => {
      const fn = a[0] as PyGlobal;
      if (!fn || typeof fn.call !== 'function') throw new Error(`${file}: _rebuild_from_type_v2 without a rebuild function`);
      return fn.call(a[2] as unknown[]);
    }),
    'torch.nn.parameter.Parameter': { name: 'torch.nn.parameter.Parameter', call: (a) => a[0] },
    'torch._tensor.Tensor': { name: 'torch._tensor.Tensor', call: (a) => a[0] },
    'torch.Tensor': { name: 'torch.Tensor', call: (a) => a[0] },
    // argparse.Namespace / numpy are deliberately absent: a checkpoint holding them is refused
  };
  for (const [cls, dtype] of Object.entries(STORAGE_DTYPES)) {
    globals[`torch.${cls}`] = { name: `torch.${cls}`, storageDtype: dtype, call: () => { throw new Error(`${file}: torch.${cls} cannot be called`); } } as PyGlobal & StorageRef;
  }

  return unpickle(zip.read(pkl), { globals, persistentLoad: loadStorage, file: `${file}: data.pkl` });
}

/**
 * A pickled value in an error message, cut short at `max` characters. Written by hand and stopped as
 * soon as it is long enough: a pickle can nest lists that hold each other twice (memo references),
 * 2^40 leaves in 800 bytes, and JSON.stringify would walk all of them.
 */
function describe(v: unknown, max = 80): string {
  let out = '';
  const put = (s: string): boolean => (out += s).length <= max;
  const walk = (x: unknown): boolean => {
    if (Array.isArray(x)) {
      if (!put('[')) return false;
      for (let i = 0; i < x.length; i++) if ((i > 0 && !put(',')) || !walk(x[i])) return false;
      return put(']');
    }
    if (x instanceof Map) {
      if (!put('{')) return false;
      let first = true;
      for (const [k, val] of x) {
        if ((!first && !put(',')) || !walk(k) || !put(':') || !walk(val)) return false;
        first = false;
      }
      return put('}');
    }
    if (typeof x === 'bigint') return put(x.toString());
    if (typeof x === 'string') return put(JSON.stringify(x.slice(0, max + 1)));
    if (x !== null && typeof x === 'object') return put(`<${x.constructor?.name ?? 'object'}>`);
    return put(String(x));
  };
  walk(v);
  return out.length > max ? `${out.slice(0, max)}...` : out;
}

/** What the views of one checkpoint allocate, against what it stores. */
interface ViewBudget {
  /** Bytes views hold beyond their storage (stride 0). */
  expandedBytes: number;
  /** Bytes of every copied (non-contiguous) view. */
  copiedBytes: number;
  /** Bytes of the storages loaded so far. */
  storageBytes: number;
}

/**
 * Gather a strided view of a storage into a fresh contiguous tensor (a view, no copy, when already
 * contiguous and aligned), within the checkpoint's `budget`.
 */
function viewToContiguous(st: Storage, offset: number, size: number[], stride: number[], file: string, budget: ViewBudget): HostTensor {
  const dtype = st.dtype;
  const esize = DTYPE_BYTES[dtype];
  const storageNumel = st.bytes.byteLength / esize;
  const n = numel(size);
  const view = `view (offset ${offset}, size [${size}], stride [${stride}])`;
  if (size.length !== stride.length) throw new Error(`${file}: storage "${st.key}": size [${size}] and stride [${stride}] differ in rank`);
  if (!Number.isSafeInteger(n)) throw new Error(`${file}: storage "${st.key}": ${view} has ${n} elements; the file is damaged or hostile`);
  if (n > 0) {
    // Highest element index the view touches must lie inside the storage.
    let maxIdx = offset;
    for (let d = 0; d < size.length; d++) maxIdx += (size[d] - 1) * stride[d];
    if (maxIdx >= storageNumel) {
      throw new Error(`${file}: storage "${st.key}": ${view} reaches element ${maxIdx} but the storage has ${storageNumel}`);
    }
  }
  if (n > storageNumel) {
    // Overlapping strides (stride 0): more elements than the storage holds, all of them new memory.
    budget.expandedBytes += (n - storageNumel) * esize;
    if (budget.expandedBytes > EXPANDED_VIEW_BYTES) {
      throw new Error(`${file}: storage "${st.key}": ${view} expands ${storageNumel} stored elements to ${n}, and the views of this file would need ${budget.expandedBytes} bytes more than it stores (at most ${EXPANDED_VIEW_BYTES}); the file is damaged or hostile (save tensor.contiguous() instead)`);
    }
  }
  // Contiguous row-major strides?
  let contiguous = true;
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) { contiguous = false; break; }
    expect *= size[d];
  }
  const all = typedView(dtype, st.bytes.buffer, st.bytes.byteOffset, storageNumel);
  if (contiguous) {
    return { dtype, shape: size.slice(), data: all.subarray(offset, offset + n) as HostData };
  }
  budget.copiedBytes += n * esize;
  if (budget.copiedBytes > 2 * budget.storageBytes + EXPANDED_VIEW_BYTES) {
    throw new Error(`${file}: storage "${st.key}": ${view}: the strided views of this file would copy ${budget.copiedBytes} bytes out of the ${budget.storageBytes} it stores (at most twice that plus ${EXPANDED_VIEW_BYTES}); the file is damaged or hostile (save tensor.contiguous() instead)`);
  }
  // Strided gather: walk the output in row-major order with an odometer over the dimensions.
  const out = new (all.constructor as { new (len: number): HostData })(n);
  const rank = size.length;
  const idx = new Array<number>(rank).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    (out as unknown as ArrayLike<unknown> & Record<number, unknown>)[i] = (all as unknown as Record<number, unknown>)[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += stride[d];
      if (idx[d] < size[d]) break;
      src -= size[d] * stride[d];
      idx[d] = 0;
    }
  }
  return { dtype, shape: size.slice(), data: out };
}

function isHostTensor(v: unknown): v is HostTensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v;
}

/** Prefixes MiniMind's own loaders strip: DDP's `module.` and torch.compile's `_orig_mod.`. */
function stripPrefix(name: string): string {
  for (;;) {
    if (name.startsWith('module.')) name = name.slice(7);
    else if (name.startsWith('_orig_mod.')) name = name.slice(10);
    else return name;
  }
}

/**
 * The state dict of a .pth file as name -> contiguous HostTensor. Accepts a bare state dict or a
 * checkpoint with the state dict under 'model' (or 'state_dict' / 'model_state_dict'); drops
 * non-tensor entries and strips `module.` / `_orig_mod.` prefixes. Tied weights (e.g.
 * tok_embeddings.weight and output.weight) come back as two entries sharing one buffer.
 */
export function readPth(file: string): Map<string, HostTensor> {
  const root = readPthObject(file);
  if (!(root instanceof Map)) throw new Error(`${file}: expected a dict (state dict or checkpoint) at the top level`);
  let sd: Map<unknown, unknown> = root;
  const hasTensors = [...root.values()].some(isHostTensor);
  if (!hasTensors) {
    for (const key of ['model', 'state_dict', 'model_state_dict']) {
      const v = root.get(key);
      if (v instanceof Map) { sd = v; break; }
    }
  }
  const out = new Map<string, HostTensor>();
  for (const [k, v] of sd) {
    if (typeof k !== 'string' || !isHostTensor(v)) continue;
    out.set(stripPrefix(k), v);
  }
  if (out.size === 0) throw new Error(`${file}: no tensors found (expected a state dict, or a checkpoint with one under 'model')`);
  return out;
}
