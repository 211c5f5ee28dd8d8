// safetensors reader/writer: files written by Python safetensors (test/fixtures/st-python.safetensors,
// tools/gen_format_fixtures.py) read correctly, f16/bf16 conversions match torch bit for bit, every
// dtype round-trips, writes are aligned and atomic, and bad files fail with a clear message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  readSafetensors, writeSafetensors, toFloat32, toInt32, fromFloat32, parseSafetensors, serializeSafetensors,
  type HostTensor,
} from '../../src/formats/safetensors.js';
import { f16ToF32, f32ToF16 } from '../../src/formats/halfFloat.js';

const PY = 'test/fixtures/st-python.safetensors';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'st-test-'));
}

/** Element-wise equality that treats NaN as equal to NaN and distinguishes -0 from +0. */
function sameValues(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: ${a[i]} !== ${b[i]}`);
  }
}

function get(m: Map<string, HostTensor>, name: string): HostTensor {
  const t = m.get(name);
  assert.ok(t, `missing tensor ${name}`);
  return t;
}

test('reads every dtype of a file written by Python safetensors', () => {
  const { tensors, metadata } = readSafetensors(PY);
  assert.deepEqual(metadata, { format: 'pt', note: 'written by python safetensors', unicode: 'π ≈ 3.14' });
  const f32 = get(tensors, 'f32');
  assert.equal(f32.dtype, 'F32');
  assert.deepEqual(f32.shape, [2, 3]);
  sameValues(f32.data as Float32Array, Float32Array.from([1.5, -2.25, 3.0e-38, Infinity, -Infinity, 0]), 'f32');
  assert.deepEqual(get(tensors, 'f32.rand').shape, [3, 5, 7]);
  sameValues(get(tensors, 'f64').data as Float64Array, [1 / 3, -1e300, 5e-324], 'f64');
  sameValues(get(tensors, 'i32').data as Int32Array, [0, 1, -1, 2147483647, -2147483648], 'i32');
  sameValues(get(tensors, 'i64').data as BigInt64Array, [0n, -5n, 2147483647n, -2147483648n, 123456789n], 'i64');
  sameValues(get(tensors, 'u8').data as Uint8Array, [0, 1, 128, 255], 'u8');
  sameValues(get(tensors, 'i8').data as Int8Array, [-128, -1, 0, 127], 'i8');
  const b = get(tensors, 'bool');
  assert.equal(b.dtype, 'BOOL');
  sameValues(b.data as Uint8Array, [1, 0, 1], 'bool');
  const s = get(tensors, 'scalar');
  assert.deepEqual(s.shape, []);
  sameValues(s.data as Float32Array, [2.5], 'scalar');
  const e = get(tensors, 'empty');
  assert.deepEqual(e.shape, [2, 0, 3]);
  assert.equal(e.data.length, 0);
  sameValues(toFloat32(get(tensors, 'odd.f16')), [0, 1, 2], 'odd.f16');
});

test('f16 and bf16 -> float32 match torch exactly (edge values included)', () => {
  const { tensors } = readSafetensors(PY);
  for (const name of ['f16', 'bf16', 'f16.rand']) {
    const t = get(tensors, name);
    sameValues(toFloat32(t), get(tensors, `${name}.as_f32`).data as Float32Array, name);
  }
});

test('float32 -> f16 / bf16 rounding matches torch .half() / .bfloat16() bit for bit', () => {
  const { tensors } = readSafetensors(PY);
  const src = get(tensors, 'round.src').data as Float32Array;
  // the source holds values beyond fp16's range (torch gives Inf): the raw conversion, as a saved
  // model refuses them (fromFloat32 'F16' names the tensor instead of writing Inf)
  const h = { dtype: 'F16', data: f32ToF16(src) };
  assert.throws(() => fromFloat32(src, [src.length], 'F16', 'round.src'), /tensor round\.src holds [\d.e+]+ \(in magnitude\), beyond fp16's largest value 65504/);
  assert.deepEqual(fromFloat32(Float32Array.of(65504, -65519, 1), [3], 'F16').data, Uint16Array.of(0x7bff, 0xfbff, 0x3c00));
  const bf = fromFloat32(src, [src.length], 'BF16');
  assert.equal(h.dtype, 'F16');
  assert.equal(bf.dtype, 'BF16');
  // NaN inputs: any NaN pattern will do (torch itself gives 0x7fc0 or 0xffff depending on its code path)
  const nanFree = (bits: Uint16Array, expMask: number): number[] =>
    [...bits].map((v, i) => (Number.isNaN(src[i]) ? (assert.ok((v & expMask) === expMask && (v & ~expMask & 0x7fff) !== 0, `NaN at ${i}`), -1) : v));
  assert.ok(src.some((v) => Number.isNaN(v)), 'test premise: the source holds a NaN');
  sameValues(nanFree(h.data as Uint16Array, 0x7c00), nanFree(get(tensors, 'round.f16').data as Uint16Array, 0x7c00), 'round.f16');
  sameValues(nanFree(bf.data as Uint16Array, 0x7f80), nanFree(get(tensors, 'round.bf16').data as Uint16Array, 0x7f80), 'round.bf16');
});

test('every f16 bit pattern survives f16 -> f32 -> f16', () => {
  const all = new Uint16Array(65536);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const back = f32ToF16(f16ToF32(all));
  for (let i = 0; i < all.length; i++) {
    const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
    if (isNaN) assert.ok((back[i] & 0x7c00) === 0x7c00 && (back[i] & 0x3ff) !== 0, `NaN pattern ${i}`);
    else if (back[i] !== i) assert.fail(`f16 pattern 0x${i.toString(16)} came back as 0x${back[i].toString(16)}`);
  }
});

test('toFloat32 returns F32 data without a copy; views share the file buffer', () => {
  const { tensors } = readSafetensors(PY);
  const t = get(tensors, 'f32.rand');
  assert.equal(toFloat32(t), t.data);
  assert.equal(get(tensors, 'f32').data.buffer, t.data.buffer, 'aligned tensors are views on one file buffer');
  const i64 = toFloat32(get(tensors, 'i64'));
  sameValues(i64, [0, -5, 2147483647, -2147483648, 123456789].map(Math.fround), 'i64 as f32');
});

test('toInt32 converts I64 with a range check', () => {
  const { tensors } = readSafetensors(PY);
  sameValues(toInt32(get(tensors, 'i64')), [0, -5, 2147483647, -2147483648, 123456789], 'i64');
  assert.equal(toInt32(get(tensors, 'i32')), get(tensors, 'i32').data);
  assert.throws(() => toInt32(get(tensors, 'i64.big')), /1099511627776 at index 1 does not fit in int32/);
  assert.throws(() => toInt32(get(tensors, 'f32')), /expected an integer tensor, got F32/);
});

test('round trip of every dtype, with metadata; header padded to 8 and every tensor aligned', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'rt.safetensors');
    const src: Record<string, HostTensor> = {
      a_f32: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, NaN, -0, Infinity]) },
      b_f16: fromFloat32(Float32Array.from([0.1, -65504, 1e-7]), [3], 'F16'),
      c_bf16: fromFloat32(Float32Array.from([0.1, -3e38, 1e-40, 7]), [2, 2], 'BF16'),
      d_i32: { dtype: 'I32', shape: [3], data: Int32Array.from([-1, 0, 2147483647]) },
      e_i64: { dtype: 'I64', shape: [2], data: BigInt64Array.from([-(2n ** 62n), 42n]) },
      f_f64: { dtype: 'F64', shape: [1, 1, 1], data: Float64Array.from([Math.PI]) },
      g_u8: { dtype: 'U8', shape: [5], data: Uint8Array.from([0, 1, 2, 254, 255]) },
      h_i8: { dtype: 'I8', shape: [1], data: Int8Array.from([-128]) },
      i_bool: { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
      j_scalar: { dtype: 'F32', shape: [], data: Float32Array.from([9]) },
      k_empty: { dtype: 'F16', shape: [0, 7], data: new Uint16Array(0) },
    };
    writeSafetensors(file, src, { config: '{"x": 1}', note: 'ünïcödé' });
    const raw = fs.readFileSync(file);
    const n = Number(raw.readBigUInt64LE(0));
    assert.equal(n % 8, 0, 'header length is a multiple of 8');
    const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8'));
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const { dtype, data_offsets } = info as { dtype: string; data_offsets: number[] };
      const size = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2 }[dtype] ?? 1;
      assert.equal((8 + n + data_offsets[0]) % size, 0, `${name} aligned`);
    }
    const back = readSafetensors(file);
    assert.deepEqual(back.metadata, { config: '{"x": 1}', note: 'ünïcödé' });
    assert.equal(back.tensors.size, Object.keys(src).length);
    for (const [name, t] of Object.entries(src)) {
      const r = get(back.tensors, name);
      assert.equal(r.dtype, t.dtype, name);
      assert.deepEqual(r.shape, t.shape, name);
      assert.equal(r.data.constructor, t.data.constructor, name);
      sameValues(r.data as ArrayLike<number>, t.data as ArrayLike<number>, name);
    }
    // Map input and no metadata: no __metadata__ entry at all
    writeSafetensors(file, new Map([['x', src.a_f32]]));
    const raw2 = fs.readFileSync(file);
    assert.ok(!raw2.includes('__metadata__'));
    assert.deepEqual(readSafetensors(file).metadata, {});
    assert.deepEqual(fs.readdirSync(dir), ['rt.safetensors'], 'no temp files left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('re-writing the Python file gives the same tensors (what tools/check_safetensors_py.py verifies in Python)', () => {
  const dir = tmpDir();
  try {
    const a = readSafetensors(PY);
    const file = path.join(dir, 'ours.safetensors');
    writeSafetensors(file, a.tensors, a.metadata);
    const b = readSafetensors(file);
    assert.deepEqual([...b.tensors.keys()].sort(), [...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors) {
      const r = get(b.tensors, name);
      assert.equal(r.dtype, t.dtype);
      assert.deepEqual(r.shape, t.shape);
      sameValues(r.data as ArrayLike<number>, t.data as ArrayLike<number>, name);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed write leaves the existing file intact and no temp file', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'keep.safetensors');
    writeSafetensors(file, { x: fromFloat32(Float32Array.from([1, 2]), [2]) });
    const before = fs.readFileSync(file);
    assert.throws(
      () => writeSafetensors(file, { y: { dtype: 'F16', shape: [2], data: Float32Array.from([1, 2]) } }),
      /tensor "y": dtype F16 must be stored in a Uint16Array, got Float32Array/,
    );
    assert.throws(
      () => writeSafetensors(file, { y: { dtype: 'F32', shape: [3], data: Float32Array.from([1, 2]) } }),
      /tensor "y": shape \[3\] has 3 elements but data has 2/,
    );
    assert.throws(() => writeSafetensors(path.join(file, 'x.safetensors'), { x: fromFloat32(Float32Array.from([1]), [1]) }), /ENOTDIR|EEXIST/);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(fs.readdirSync(dir), ['keep.safetensors']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('misaligned tensors in a foreign file are copied, not mis-viewed', () => {
  // Hand-made file: header length 2 + 8 + n is odd-aligned for an F32 tensor.
  const header = Buffer.from(JSON.stringify({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }) + ' ');
  const data = Buffer.from(Float32Array.from([1.25, -7]).buffer);
  const buf = Buffer.concat([Buffer.alloc(8), header, data]);
  buf.writeBigUInt64LE(BigInt(header.length), 0);
  assert.notEqual((8 + header.length) % 4, 0, 'test premise: misaligned');
  const t = get(parseSafetensors(buf, 'hand.safetensors').tensors, 't');
  sameValues(t.data as Float32Array, [1.25, -7], 't');
});

function corrupt(mutate: (b: Buffer) => Buffer, re: RegExp): void {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(file, mutate(fs.readFileSync(PY)));
    assert.throws(() => readSafetensors(file), (e: Error) => {
      assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
      assert.match(e.message, re);
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function withHeader(h: unknown, dataBytes = 16): Buffer {
  const json = Buffer.from(JSON.stringify(h));
  const b = Buffer.alloc(8 + json.length + dataBytes);
  b.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(b, 8);
  return b;
}

test('bad files fail with a message naming the file and what is wrong', () => {
  corrupt((b) => b.subarray(0, 5), /shorter than the 8-byte header length/);
  corrupt((b) => b.subarray(0, 100), /truncated: header says \d+ header bytes/);
  corrupt((b) => b.subarray(0, b.length - 10), /tensor "[^"]+": data_offsets \[\d+, \d+\] out of range .*truncated\?/);
  corrupt((b) => { const c = Buffer.from(b); c.writeBigUInt64LE(10n ** 12n, 0); return c; }, /bad safetensors header length/);
  corrupt((b) => { const c = Buffer.from(b); c[8] = 0x5b; return c; }, /expected a JSON object|not valid UTF-8 JSON/);
  corrupt((b) => { const c = Buffer.from(b); c[9] = 0xff; return c; }, /not valid UTF-8 JSON/);
  corrupt(() => withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }), /tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets give 16/);
  corrupt(() => withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }), /tensor "w": data_offsets \[8, 0\] out of range/);
  corrupt(() => withHeader({ w: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } }), /tensor "w": unsupported dtype "C64"/);
  corrupt(() => withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), /tensor "w": bad shape/);
  corrupt(() => withHeader({ w: { dtype: 'F32', shape: [1] } }), /tensor "w": bad data_offsets/);
  corrupt(() => withHeader({ __metadata__: { a: 1 } }), /__metadata__: value of "a" is not a string/);
  assert.throws(() => readSafetensors('test/fixtures/does-not-exist.safetensors'), /ENOENT/);
});

test('serialize orders tensors largest element first so all offsets stay aligned', () => {
  const buf = serializeSafetensors({
    a: { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
    b: { dtype: 'F64', shape: [1], data: Float64Array.from([2]) },
    c: { dtype: 'F16', shape: [1], data: Uint16Array.from([0x3c00]) },
  });
  const { tensors } = parseSafetensors(buf);
  assert.deepEqual([...tensors.keys()], ['b', 'c', 'a']);
  assert.equal((get(tensors, 'b').data as Float64Array)[0], 2);
});
