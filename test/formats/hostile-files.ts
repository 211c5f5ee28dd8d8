// Builders for small hostile files (PyTorch .pth zips that describe far more data than they hold),
// written byte by byte here so the tests need no Python: a state dict of one tensor whose view,
// storage size and zip entry sizes are whatever the test asks for.
import * as zlib from 'node:zlib';
import { crc32 } from '../../src/formats/zip.js';

/**
 * Pickle (protocol 2) of {name: _rebuild_tensor_v2(storage('0', FloatStorage, numel), 0, size, stride, False, OrderedDict())},
 * or with `copies`, of `copies` such entries (name0, name1, ...) all viewing the same storage.
 */
function statePickle(name: string, storageNumel: number, size: number[] | { dagDepth: number }, stride: number[], copies = 0): Buffer {
  const parts: Buffer[] = [];
  const op = (...b: number[]) => parts.push(Buffer.from(b));
  const global = (m: string, n: string) => { op(0x63); parts.push(Buffer.from(`${m}\n${n}\n`)); };
  const str = (s: string) => { const b = Buffer.from(s); const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(b.length, 1); parts.push(h, b); };
  const int = (n: number) => { const b = Buffer.alloc(10); b[0] = 0x8a; b[1] = 8; b.writeBigInt64LE(BigInt(n), 2); parts.push(b); };
  const tuple = (xs: number[]) => { op(0x28); xs.forEach(int); op(0x74); };
  op(0x80, 2);
  global('collections', 'OrderedDict'); op(0x29, 0x52); // OrderedDict()
  op(0x28); // MARK for SETITEMS
  for (const key of copies ? Array.from({ length: copies }, (_, i) => `${name}${i}`) : [name]) {
    str(key);
    global('torch._utils', '_rebuild_tensor_v2');
    op(0x28);
    op(0x28); str('storage'); global('torch', 'FloatStorage'); str('0'); str('cpu'); int(storageNumel); op(0x74, 0x51); // BINPERSID
    int(0);
    if (Array.isArray(size)) tuple(size);
    else {
      // a list of two references to the list below it, `dagDepth` times over (memo BINPUT/BINGET):
      // 2^dagDepth leaves in a few hundred bytes
      op(0x5d, 0x71, 0); // EMPTY_LIST, BINPUT 0
      for (let i = 1; i <= size.dagDepth; i++) op(0x30, 0x5d, 0x68, i - 1, 0x61, 0x68, i - 1, 0x61, 0x71, i); // POP, EMPTY_LIST, (BINGET i-1, APPEND) x2, BINPUT i
    }
    tuple(stride); op(0x89);
    global('collections', 'OrderedDict'); op(0x29, 0x52);
    op(0x74, 0x52); // TUPLE, REDUCE
  }
  op(0x75, 0x2e); // SETITEMS, STOP
  return Buffer.concat(parts);
}

interface Entry { name: string; data: Buffer; method: 0 | 8; size: number; crc: number }

/** A zip of the given entries (stored or already-deflated bytes, with the sizes they should declare). */
function zip(entries: Entry[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(e.method, 10);
    cd.writeUInt32LE(e.crc, 16);
    cd.writeUInt32LE(e.data.length, 20);
    cd.writeUInt32LE(e.size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    chunks.push(local, name, e.data);
    central.push(cd, name);
    offset += 30 + name.length + e.data.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, ...central, eocd]);
}

const stored = (name: string, data: Buffer): Entry => ({ name, data, method: 0, size: data.length, crc: crc32(data) });

/** A .pth whose one tensor `name` is a view (size, stride) of a float32 storage of `storageNumel` elements (all 1.0). */
export function stridedViewPth(name: string, storageNumel: number, size: number[], stride: number[]): Buffer {
  return zip([
    stored('archive/data.pkl', statePickle(name, storageNumel, size, stride)),
    stored('archive/data/0', Buffer.from(new Float32Array(storageNumel).fill(1).buffer)),
  ]);
}

/** A .pth whose one tensor's size is a list nested `depth` deep, each level holding the one below twice. */
export function dagSizePth(depth: number): Buffer {
  return zip([
    stored('archive/data.pkl', statePickle('w', 4, { dagDepth: depth }, [1])),
    stored('archive/data/0', Buffer.from(new Float32Array(4).buffer)),
  ]);
}

/**
 * A .pth of `copies` tensors that all view one stored [rows, cols] float32 storage (zeros, deflated
 * to a few KB) transposed: each view is strided, so a loader that copies each one out allocates
 * `copies` times the storage.
 */
export function repeatedTransposePth(copies: number, rows: number, cols: number): Buffer {
  const numel = rows * cols;
  return zip([
    stored('archive/data.pkl', statePickle('w', numel, [cols, rows], [1, cols], copies)),
    { name: 'archive/data/0', data: deflateZeros(numel * 4), method: 8, size: numel * 4, crc: crc32(Buffer.alloc(numel * 4)) },
  ]);
}

/**
 * A zip bomb as a .pth: its storage entry is `inflated` zero bytes deflated (about 1 KB per MiB),
 * declaring `declared` bytes (the pickle's storage numel agrees with the declaration).
 */
export function deflateBombPth(inflated: number, declared: number): Buffer {
  const numel = Math.floor(declared / 4);
  return zip([
    stored('archive/data.pkl', statePickle('model.embed_tokens.weight', numel, [numel], [1])),
    { name: 'archive/data/0', data: deflateZeros(inflated), method: 8, size: declared, crc: 0 },
  ]);
}

/**
 * Raw deflate of `n` zero bytes (n a multiple of 1 MiB) without holding them: one MiB deflated
 * with a sync flush (byte-aligned, not final) repeated, then an empty final block. Deflate blocks
 * concatenate, so this is one valid stream.
 */
function deflateZeros(n: number): Buffer {
  const piece = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array.from({ length: Math.ceil(n / (1 << 20)) }, () => piece), zlib.deflateRawSync(Buffer.alloc(0))]);
}
