// GGUF (version 3), the file format of llama.cpp and ollama: a writer, and the tensor encodings we
// export (f32, f16, bf16, q8_0).
//
// Layout (ggml/docs/gguf.md):
//   "GGUF" u32 version=3 | u64 tensor_count | u64 kv_count
//   kv_count × (string key, u32 value_type, value)         strings are u64 length + UTF-8 bytes
//   tensor_count × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
//   padding to `general.alignment` (32), then the tensor data, each tensor at an aligned offset.
// ggml lists dimensions innermost first: a PyTorch weight (out, in) is ne = [in, out].
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './halfFloat.js';
import { writeFileAtomic } from './safetensors.js';

/** gguf_type: the type tag of a metadata value. */
export const GGUF_TYPE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;

/** The ggml tensor types we write, with their ggml_type ids. */
export const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8, BF16: 30 } as const;
export type GgmlType = keyof typeof GGML_TYPE;

/** A metadata value with its GGUF type (numbers are ambiguous, so the type is explicit). */
export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'i32[]' | 'f32[]'; value: ArrayLike<number> };

export const u32 = (value: number): GgufValue => ({ type: 'u32', value });
export const f32 = (value: number): GgufValue => ({ type: 'f32', value });
export const str = (value: string): GgufValue => ({ type: 'string', value });
export const bool = (value: boolean): GgufValue => ({ type: 'bool', value });

export interface GgufTensor {
  name: string;
  /** Row-major (PyTorch) shape; written reversed as ggml's ne. */
  shape: number[];
  type: GgmlType;
  /** The encoded bytes (see encodeTensor). */
  data: Uint8Array;
}

export const GGUF_ALIGNMENT = 32;
/** q8_0: blocks of 32 values, each an f16 scale + 32 int8 (34 bytes). */
export const QK8_0 = 32;

/** float32 values -> the bytes of a ggml tensor of `type` (q8_0 needs a row length divisible by 32). */
export function encodeTensor(values: Float32Array, type: GgmlType): Uint8Array {
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (type) {
    case 'F32': return bytes(values);
    case 'F16': return bytes(f32ToF16(values));
    case 'BF16': return bytes(f32ToBf16(values));
    case 'Q8_0': return quantizeQ8_0(values);
  }
}

/**
 * ggml's quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 (stored as f16) and
 * q = round(x / d) (round half away from zero, as C's roundf).
 */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % QK8_0 !== 0) throw new Error(`q8_0: ${x.length} values is not a multiple of ${QK8_0}`);
  const nb = x.length / QK8_0;
  const out = new Uint8Array(nb * 34);
  const view = new DataView(out.buffer);
  const dBits = new Uint16Array(1);
  const dF32 = new Float32Array(1);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(x[b * QK8_0 + j]));
    dF32[0] = amax / 127;
    const d = dF32[0];
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    f32ToF16(dF32, dBits);
    view.setUint16(b * 34, dBits[0], true);
    for (let j = 0; j < QK8_0; j++) {
      const v = Math.fround(x[b * QK8_0 + j] * id);
      view.setInt8(b * 34 + 2 + j, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
  return out;
}

/** q8_0 blocks -> float32 values (ggml's dequantize_row_q8_0: q * d). */
export function dequantizeQ8_0(q: Uint8Array): Float32Array {
  if (q.length % 34 !== 0) throw new Error(`q8_0: ${q.length} bytes is not a whole number of 34-byte blocks`);
  const nb = q.length / 34;
  const out = new Float32Array(nb * QK8_0);
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const bits = new Uint16Array(1);
  const d = new Float32Array(1);
  for (let b = 0; b < nb; b++) {
    bits[0] = view.getUint16(b * 34, true);
    f16ToF32(bits, d);
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = view.getInt8(b * 34 + 2 + j) * d[0];
  }
  return out;
}

/** The float32 values a ggml tensor of `type` holds: encodeTensor's inverse. */
export function decodeTensor(bytes: Uint8Array, type: GgmlType): Float32Array {
  const u16 = () => new Uint16Array(bytes.slice().buffer);
  switch (type) {
    case 'F32': return new Float32Array(bytes.slice().buffer);
    case 'F16': return f16ToF32(u16());
    case 'BF16': return bf16ToF32(u16());
    case 'Q8_0': return dequantizeQ8_0(bytes);
  }
}

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number) { this.reserve(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  u32(v: number) { this.reserve(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number) { this.reserve(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number) { this.reserve(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  u64(v: number) { this.reserve(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  string(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.reserve(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(alignment: number) { while (this.length % alignment !== 0) this.u8(0); }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case 'u32': w.u32(GGUF_TYPE.UINT32); w.u32(v.value); break;
    case 'i32': w.u32(GGUF_TYPE.INT32); w.i32(v.value); break;
    case 'f32': w.u32(GGUF_TYPE.FLOAT32); w.f32(v.value); break;
    case 'u64': w.u32(GGUF_TYPE.UINT64); w.u64(v.value); break;
    case 'bool': w.u32(GGUF_TYPE.BOOL); w.u8(v.value ? 1 : 0); break;
    case 'string': w.u32(GGUF_TYPE.STRING); w.string(v.value); break;
    case 'string[]':
      w.u32(GGUF_TYPE.ARRAY); w.u32(GGUF_TYPE.STRING); w.u64(v.value.length);
      for (const s of v.value) w.string(s);
      break;
    case 'i32[]':
      w.u32(GGUF_TYPE.ARRAY); w.u32(GGUF_TYPE.INT32); w.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) w.i32(v.value[i]);
      break;
    case 'f32[]':
      w.u32(GGUF_TYPE.ARRAY); w.u32(GGUF_TYPE.FLOAT32); w.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) w.f32(v.value[i]);
      break;
  }
}

/** The bytes of a whole GGUF file. */
export function serializeGguf(metadata: [string, GgufValue][], tensors: GgufTensor[]): Buffer {
  const keys = new Set<string>();
  for (const [k] of metadata) {
    if (keys.has(k)) throw new Error(`gguf: metadata key ${k} given twice`);
    keys.add(k);
  }
  const w = new ByteWriter();
  w.u32(0x46554747); // "GGUF" read as a little-endian u32
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [k, v] of metadata) {
    w.string(k);
    writeValue(w, v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) w.u64(d);
    w.u32(GGML_TYPE[t.type]);
    w.u64(offset);
    offsets.push(offset);
    offset += t.data.byteLength;
    offset += (GGUF_ALIGNMENT - (offset % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
  }
  w.pad(GGUF_ALIGNMENT);
  const header = w.bytes();
  const out = Buffer.alloc(header.length + offset);
  header.copy(out, 0);
  tensors.forEach((t, i) => out.set(t.data, header.length + offsets[i]));
  return out;
}

/** Writes a GGUF file atomically (temp file + rename). */
export function writeGguf(file: string, metadata: [string, GgufValue][], tensors: GgufTensor[]): void {
  writeFileAtomic(file, serializeGguf(metadata, tensors));
}
