// safetensors read/write at host level (no engine dependency).
//
// Layout (https://github.com/huggingface/safetensors): u64 little-endian header length N, then N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// byte buffer; offsets are relative to the start of that buffer (8 + N).
//
// Reading returns typed-array views on the file buffer (zero copy) when a tensor's byte offset is
// aligned to its element size, a copy otherwise. Writing pads the header to 8 bytes and orders
// tensors by element size (largest first, then name, as Python safetensors does), so every tensor
// in our own files is aligned. Writes are atomic (src/core/write-file.ts).

import * as fs from '../io/fs.js';
import { writeFileAtomic } from '../core/write-file.js';
import { checkFitsInMemory } from '../core/memory.js';
import { bf16ToF32, checkFitsF16, f16ToF32, f32ToBf16, f32ToF16 } from './halfFloat.js';

export type StDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'U8' | 'I8' | 'BOOL';

export type HostData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Uint8Array | Int8Array;

export interface HostTensor {
  dtype: StDType;
  shape: number[];
  /** Row-major elements. F16/BF16 hold raw 16-bit patterns; BOOL holds 0/1 bytes. */
  data: HostData;
}

export const DTYPE_BYTES: Record<StDType, number> = {
  F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1, I8: 1, BOOL: 1,
};

/** Python's safetensors refuses headers above 100 MB; so do we (a corrupt length would otherwise allocate GBs). */
const MAX_HEADER = 100_000_000;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

function isStDType(s: unknown): s is StDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** A typed array of `dtype` over bytes [byteOffset, byteOffset + count*size) of `buf`; a view when aligned. */
export function typedView(dtype: StDType, buf: ArrayBufferLike, byteOffset: number, count: number): HostData {
  const size = DTYPE_BYTES[dtype];
  if (byteOffset % size !== 0) {
    // Misaligned (a foreign file): copy the bytes into a fresh, aligned buffer.
    const copy = new Uint8Array(count * size);
    copy.set(new Uint8Array(buf, byteOffset, count * size));
    return typedView(dtype, copy.buffer, 0, count);
  }
  switch (dtype) {
    case 'F32': return new Float32Array(buf, byteOffset, count);
    case 'F64': return new Float64Array(buf, byteOffset, count);
    case 'I32': return new Int32Array(buf, byteOffset, count);
    case 'I64': return new BigInt64Array(buf, byteOffset, count);
    case 'F16': case 'BF16': return new Uint16Array(buf, byteOffset, count);
    case 'U8': case 'BOOL': return new Uint8Array(buf, byteOffset, count);
    case 'I8': return new Int8Array(buf, byteOffset, count);
  }
}

/** Whole file into one Buffer (works past readFileSync's 2 GiB limit). */
export function readWholeFile(file: string): Buffer {
  // (opening a named pipe would wait for a writer for ever; a device has no size)
  if (!fs.statSync(file).isFile()) throw new Error(`${file}: not a regular file`);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    checkFitsInMemory(size, `reading ${file} (${size} bytes)`, 'use a machine with more memory');
    const buf = Buffer.allocUnsafeSlow(size); // own ArrayBuffer, byteOffset 0: keeps views aligned
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, Math.min(size - off, 1 << 30), off);
      if (n === 0) throw new Error(`${file}: file shrank while reading (got ${off} of ${size} bytes)`);
      off += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** Parse a safetensors image already in memory. `file` is only used in error messages. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new Error(`${file}: not a safetensors file: ${buf.byteLength} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) throw new Error(`${file}: bad safetensors header length ${n64} (over ${MAX_HEADER} bytes; not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > buf.byteLength) throw new Error(`${file}: truncated: header says ${n} header bytes but the file has only ${buf.byteLength - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${file}: bad safetensors header: not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${file}: bad safetensors header: expected a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  const tensors = new Map<string, HostTensor>();
  const spans: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new Error(`${file}: bad __metadata__: expected an object of strings`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new Error(`${file}: bad __metadata__: value of "${k}" is not a string`);
      }
      metadata = info as Record<string, string>;
      continue;
    }
    const where = `${file}: tensor "${name}"`;
    if (typeof info !== 'object' || info === null) throw new Error(`${where}: header entry is not an object`);
    const { dtype, shape, data_offsets: offs } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isStDType(dtype)) throw new Error(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) throw new Error(`${where}: bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(`${where}: bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] out of range (data section is ${dataLen} bytes${end > dataLen ? '; file truncated?' : ''})`);
    }
    const count = numel(shape);
    const size = DTYPE_BYTES[dtype];
    if (end - begin !== count * size) {
      throw new Error(`${where}: shape [${shape.join(', ')}] of ${dtype} needs ${count * size} bytes but data_offsets give ${end - begin}`);
    }
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape: shape.slice(), data: typedView(dtype, buf.buffer, buf.byteOffset + dataStart + begin, count) });
  }
  // As Python's safetensors: the tensors tile the data section, in order, without overlap. Overlapping
  // entries would let a small file name terabytes (each converted to float32 on its own).
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) throw new Error(`${file}: tensor "${name}": data_offsets [${begin}, ${end}] ${begin < at ? 'overlap another tensor' : `leave a gap after byte ${at}`}; the file is damaged`);
    at = end;
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  return parseSafetensors(readWholeFile(file), file);
}

/** Any numeric tensor as float32 values. F32 returns the same array (no copy): do not mutate it if the source must stay intact. */
export function toFloat32(t: HostTensor): Float32Array {
  const d = t.data;
  switch (t.dtype) {
    case 'F32': return d as Float32Array;
    case 'F16': return f16ToF32(d as Uint16Array);
    case 'BF16': return bf16ToF32(d as Uint16Array);
    case 'I64': {
      const src = d as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    default: return Float32Array.from(d as Float64Array | Int32Array | Uint8Array | Int8Array);
  }
}

/** Integer tensor (I64/I32, also U8/I8/BOOL) as int32; throws if an I64 value does not fit. */
export function toInt32(t: HostTensor): Int32Array {
  switch (t.dtype) {
    case 'I32': return t.data as Int32Array;
    case 'I64': {
      const src = t.data as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) throw new Error(`toInt32: I64 value ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'U8': case 'I8': case 'BOOL': return Int32Array.from(t.data as Uint8Array | Int8Array);
    default: throw new Error(`toInt32: expected an integer tensor, got ${t.dtype}`);
  }
}

/**
 * float32 values -> HostTensor of F32 (same array, no copy), F16 or BF16 (round to nearest even,
 * like torch). F16 refuses values beyond its range (a UserError naming `name`) instead of writing Inf.
 */
export function fromFloat32(data: Float32Array, shape: number[], dtype: 'F32' | 'F16' | 'BF16' = 'F32', name = 'tensor'): HostTensor {
  if (numel(shape) !== data.length) throw new Error(`fromFloat32: shape [${shape.join(', ')}] has ${numel(shape)} elements but data has ${data.length}`);
  switch (dtype) {
    case 'F32': return { dtype, shape: shape.slice(), data };
    case 'F16':
      checkFitsF16(data, name);
      return { dtype, shape: shape.slice(), data: f32ToF16(data) };
    case 'BF16': return { dtype, shape: shape.slice(), data: f32ToBf16(data) };
  }
}

/** The typed array a dtype must be stored in (checked on write so a mismatch cannot silently corrupt a file). */
const ARRAY_FOR: Record<StDType, { new (n: number): HostData; name: string }> = {
  F32: Float32Array, F64: Float64Array, I32: Int32Array, I64: BigInt64Array,
  F16: Uint16Array, BF16: Uint16Array, U8: Uint8Array, BOOL: Uint8Array, I8: Int8Array,
};

/** Serialize to one Buffer (header padded with spaces to a multiple of 8). */
export function serializeSafetensors(tensors: Map<string, HostTensor> | Record<string, HostTensor>, metadata?: Record<string, string>): Buffer {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error(`safetensors: "__metadata__" is reserved and cannot be a tensor name`);
    if (!isStDType(t.dtype)) throw new Error(`safetensors: tensor "${name}": unsupported dtype ${String(t.dtype)}`);
    if (!(t.data instanceof ARRAY_FOR[t.dtype])) {
      throw new Error(`safetensors: tensor "${name}": dtype ${t.dtype} must be stored in a ${ARRAY_FOR[t.dtype].name}, got ${t.data.constructor.name}`);
    }
    if (numel(t.shape) !== t.data.length) {
      throw new Error(`safetensors: tensor "${name}": shape [${t.shape.join(', ')}] has ${numel(t.shape)} elements but data has ${t.data.length}`);
    }
  }
  // Largest element size first, then by name: every tensor then starts aligned to its element size.
  entries.sort((a, b) => DTYPE_BYTES[b[1].dtype] - DTYPE_BYTES[a[1].dtype] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf-8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = Buffer.allocUnsafe(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let pos = 8 + json.length;
  for (const [, t] of entries) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, pos);
    pos += src.length;
  }
  return out;
}

/** The crash-safe writer (temp file + fsync + rename), re-exported for the writers of this folder. */
export { writeFileAtomic };

export function writeSafetensors(file: string, tensors: Map<string, HostTensor> | Record<string, HostTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
