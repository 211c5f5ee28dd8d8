// Writes PyTorch checkpoints as torch.save does (the zip format, torch >= 1.6), so that MiniMind's
// own scripts `torch.load` them (weights_only=True included): a state dict of tensors.
//
// Layout: a zip of stored (uncompressed) entries under one folder:
//   archive/data.pkl    pickle (protocol 2) of OrderedDict{name: _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())}
//   archive/data/<key>  each storage's raw little-endian bytes; tensors given the same data share one storage
//   archive/byteorder   "little";  archive/version  "3"
// Entries start 64-byte aligned (padding in the local header's extra field), as torch.save writes
// them, so torch.load(mmap=True) works too.
import { crc32 } from './zip.js';
import { writeFileAtomic, type HostTensor } from './safetensors.js';

const STORAGE: Partial<Record<HostTensor['dtype'], string>> = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', I64: 'LongStorage', I32: 'IntStorage' };

/** Pickle opcodes used here (Lib/pickle.py names). */
const OP = { PROTO: 0x80, GLOBAL: 0x63, EMPTY_TUPLE: 0x29, REDUCE: 0x52, MARK: 0x28, SETITEMS: 0x75, BINUNICODE: 0x58, BINPERSID: 0x51, TUPLE: 0x74, BININT: 0x4a, LONG1: 0x8a, NEWFALSE: 0x89, STOP: 0x2e };

class PickleWriter {
  private parts: number[] = [];
  op(code: number) { this.parts.push(code); }
  global(module: string, name: string) {
    this.op(OP.GLOBAL);
    for (const c of Buffer.from(`${module}\n${name}\n`, 'latin1')) this.parts.push(c);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.op(OP.BINUNICODE);
    this.u32(b.length);
    for (const c of b) this.parts.push(c);
  }
  int(n: number) {
    if (n >= -(2 ** 31) && n < 2 ** 31) {
      this.op(OP.BININT);
      this.u32(n >>> 0);
      return;
    }
    // LONG1: little-endian two's complement, 8 bytes is plenty for tensor sizes
    this.op(OP.LONG1);
    this.parts.push(8);
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    for (const c of b) this.parts.push(c);
  }
  tuple(items: number[]) {
    this.op(OP.MARK);
    for (const n of items) this.int(n);
    this.op(OP.TUPLE);
  }
  private u32(v: number) { this.parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff); }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** The data.pkl of a state dict whose tensors use the given storage keys. */
function statePickle(entries: { name: string; t: HostTensor; key: string }[]): Uint8Array {
  const w = new PickleWriter();
  w.op(OP.PROTO); w.op(2);
  w.global('collections', 'OrderedDict'); w.op(OP.EMPTY_TUPLE); w.op(OP.REDUCE);
  w.op(OP.MARK);
  for (const { name, t, key } of entries) {
    w.str(name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.op(OP.MARK);
    // persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
    w.op(OP.MARK); w.str('storage'); w.global('torch', STORAGE[t.dtype]!); w.str(key); w.str('cpu'); w.int(t.data.length); w.op(OP.TUPLE);
    w.op(OP.BINPERSID);
    w.int(0);
    w.tuple(t.shape);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    w.tuple(stride);
    w.op(OP.NEWFALSE);
    w.global('collections', 'OrderedDict'); w.op(OP.EMPTY_TUPLE); w.op(OP.REDUCE);
    w.op(OP.TUPLE);
    w.op(OP.REDUCE);
  }
  w.op(OP.SETITEMS);
  w.op(OP.STOP);
  return w.bytes();
}

/** A zip of stored entries, each one's data 64-byte aligned. */
function storedZip(entries: [string, Uint8Array][]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const headerLen = 30 + nameBytes.length;
    const pad = (64 - ((offset + headerLen + 4) % 64)) % 64;
    const extra = Buffer.alloc(pad + 4); // one extra-field record: id 'FB' (as torch), size, zeros
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    if (offset > 0xffffffff || data.length > 0xffffffff) throw new Error('pth: files over 4 GiB (ZIP64) are not written; save in f16 or bf16');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, nameBytes);
    chunks.push(local, nameBytes, extra, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    offset += 30 + nameBytes.length + extra.length + data.length;
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

/** The bytes of a .pth file holding `tensors` as a state dict (same data array -> one shared storage). */
export function serializePth(tensors: [string, HostTensor][]): Buffer {
  const keys = new Map<HostTensor['data'], string>();
  const storages: [string, Uint8Array][] = [];
  const entries = tensors.map(([name, t]) => {
    if (!STORAGE[t.dtype]) throw new Error(`pth: tensor ${name}: dtype ${t.dtype} is not written`);
    let key = keys.get(t.data);
    if (key === undefined) {
      key = String(storages.length);
      keys.set(t.data, key);
      storages.push([key, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]);
    }
    return { name, t, key };
  });
  return storedZip([
    ['archive/data.pkl', statePickle(entries)],
    ['archive/byteorder', Buffer.from('little')],
    ...storages.map(([k, b]) => [`archive/data/${k}`, b] as [string, Uint8Array]),
    ['archive/version', Buffer.from('3\n')],
  ]);
}

export function writePth(file: string, tensors: [string, HostTensor][]): void {
  writeFileAtomic(file, serializePth(tensors));
}
