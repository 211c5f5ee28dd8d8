// Minimal zip reader for PyTorch checkpoints (torch.save writes a zip of uncompressed entries).
// Reads the central directory (ZIP64 included, for checkpoints over 4 GiB) and returns entry
// bytes: a view on the archive buffer for stored entries, inflated (io/zlib) for deflate.
// Every entry's CRC-32 is checked on read, so a damaged checkpoint is an error, not wrong weights.
// Sizes are checked before anything is allocated: a stored entry must be as long as it declares,
// a deflated one cannot declare more than deflate can produce from its compressed bytes (1032:1)
// and is inflated with its declared size as the limit, so a zip bomb stops there.

import { inflateRawSync, nativeCrc32 } from '../io/zlib.js';

/** Deflate's largest expansion: a 258-byte match coded in 2 bits gives at most ~1032 bytes per input byte. */
const DEFLATE_MAX_RATIO = 1032;

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  crc32: number;
}

/** CRC-32 (zip's polynomial): node:zlib's where it has one (Node >= 20.15), else a table. */
let table: Uint32Array | null = null;
export function crc32(data: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(data) >>> 0;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  constructor(readonly buf: Uint8Array, readonly file = '<buffer>') {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.readCentralDirectory();
  }

  private fail(msg: string): never {
    throw new Error(`${this.file}: ${msg}`);
  }

  private u16(o: number): number { return this.dv.getUint16(o, true); }
  private u32(o: number): number { return this.dv.getUint32(o, true); }
  private u64(o: number): number {
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`zip: 64-bit field too large`);
    return Number(v);
  }

  private readCentralDirectory(): void {
    const len = this.buf.byteLength;
    // End of central directory record: 22 bytes + a comment of up to 65535 bytes, at the end.
    let eocd = -1;
    for (let i = len - 22; i >= Math.max(0, len - 22 - 65535); i--) {
      if (this.u32(i) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) this.fail(len < 22 ? 'not a zip archive (too short)' : 'not a zip archive (no end-of-central-directory record; truncated file or legacy non-zip torch.save format?)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    // ZIP64: the locator sits just before the EOCD and points at the ZIP64 EOCD record.
    if (eocd >= 20 && this.u32(eocd - 20) === 0x07064b50) {
      const z = this.u64(eocd - 20 + 8);
      if (z + 56 > len || this.u32(z) !== 0x06064b50) this.fail('zip: bad ZIP64 end-of-central-directory record');
      count = this.u64(z + 32);
      cdSize = this.u64(z + 40);
      cdOffset = this.u64(z + 48);
    }
    if (cdOffset + cdSize > len) this.fail(`zip: central directory [${cdOffset}, ${cdOffset + cdSize}) beyond end of file (${len} bytes); truncated?`);
    let p = cdOffset;
    const dec = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (p + 46 > len || this.u32(p) !== 0x02014b50) this.fail(`zip: bad central directory entry #${i}`);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      const name = dec.decode(this.buf.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information extra field (id 1): present values replace the 0xffffffff ones, in this order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = this.u16(e);
        const sz = this.u16(e + 2);
        if (id === 1) {
          let q = e + 4;
          if (size === 0xffffffff) { size = this.u64(q); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = this.u64(q); q += 8; }
          if (localHeaderOffset === 0xffffffff) { localHeaderOffset = this.u64(q); q += 8; }
        }
        e += 4 + sz;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset, crc32: crc });
      p = eEnd + commentLen;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Entry bytes: a view on the archive for stored entries (no copy), inflated bytes for deflate. */
  read(name: string): Uint8Array {
    const ent = this.entries.get(name);
    if (!ent) this.fail(`zip: no entry "${name}"`);
    const o = ent.localHeaderOffset;
    if (o + 30 > this.buf.byteLength || this.u32(o) !== 0x04034b50) this.fail(`zip: bad local header for "${name}"`);
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    const end = start + ent.compressedSize;
    if (end > this.buf.byteLength) this.fail(`zip: entry "${name}" runs past the end of the file (truncated?)`);
    const raw = this.buf.subarray(start, end);
    let data: Uint8Array;
    if (ent.method === 0) {
      if (ent.size !== ent.compressedSize) this.fail(`zip: stored entry "${name}" declares ${ent.size} bytes but holds ${ent.compressedSize}; the file is damaged`);
      data = raw;
    } else if (ent.method === 8) {
      if (ent.size > ent.compressedSize * DEFLATE_MAX_RATIO + 64) {
        this.fail(`zip: entry "${name}" declares ${ent.size} bytes from ${ent.compressedSize} compressed, more than deflate can produce (${DEFLATE_MAX_RATIO}:1); the file is damaged or hostile`);
      }
      let out: Uint8Array;
      try {
        // The declared size is the limit: an entry that inflates past it stops there, not gigabytes later.
        out = inflateRawSync(raw, { maxOutputLength: Math.max(ent.size, 1) });
      } catch (e) {
        const tooLong = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        this.fail(tooLong ? `zip: entry "${name}" inflates past its declared ${ent.size} bytes; the file is damaged or hostile` : `zip: entry "${name}" does not inflate (${(e as Error).message}); the file is damaged`);
      }
      if (out.length !== ent.size) this.fail(`zip: entry "${name}" inflated to ${out.length} bytes, expected ${ent.size}`);
      data = new Uint8Array(out.buffer, out.byteOffset, out.length);
    } else this.fail(`zip: entry "${name}" uses unsupported compression method ${ent.method} (only stored and deflate)`);
    const crc = crc32(data);
    if (crc !== ent.crc32) this.fail(`zip: entry "${name}" fails its CRC-32 check (${crc.toString(16)} instead of ${ent.crc32.toString(16)}); the file is damaged, copy or download it again`);
    return data;
  }
}
