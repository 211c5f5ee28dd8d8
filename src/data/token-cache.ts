// A tokenized dataset on disk: tokenize once, then every epoch and every resumed run reads ids
// straight from here. One folder per cache key:
//   meta.json    { count, totalTokens, dtype, hasMask, ... } — written last: its presence means complete
//   ids.bin      all samples' ids back to back (uint16 when the vocabulary fits, else int32)
//   mask.bin     one byte per token, 1 = target (absent for pretraining: every token is a target)
//   offsets.bin  float64[count + 1]: sample i is tokens [offsets[i], offsets[i+1])
// The folder is built under a temporary name and renamed into place, so an interrupted build
// never leaves a half cache that a later run would trust. A reader maps ids.bin and mask.bin
// (the native addon; mapped-file.ts); without it, files over `inMemoryLimit` bytes are read
// sample by sample with positional reads instead of loaded whole.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from '../io/fs.js';
import { createHash } from '../io/hash.js';
import { join } from '../io/path.js';
import { EncodedSample } from './encode.js';
import { mapFile } from './mapped-file.js';
import { process } from '../io/process.js';
import { removeStaleTemps, trackTemp } from '../core/temp-paths.js';

export interface TokenStoreMeta {
  version: 1;
  count: number;
  totalTokens: number;
  dtype: 'uint16' | 'int32';
  hasMask: boolean;
  maxLength: number;
  /** Free-form description of what was tokenized (files, options), for people reading the folder. */
  source: unknown;
  badLines: number;
}

/** Random access to tokenized samples. */
export interface SampleSource {
  readonly length: number;
  get(i: number): EncodedSample;
}

/** A stable key for a cache folder: sha256 over everything that changes the tokens. */
export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

/** path + size + mtime for each input file (cheap to compute, changes whenever the file does). */
export function fileIdentity(path: string): { path: string; size: number; mtimeMs: number } {
  const st = statSync(path);
  return { path, size: st.size, mtimeMs: Math.round(st.mtimeMs) };
}

/** sha256 of files' bytes, e.g. tokenizer.json + tokenizer_config.json, for the cache key. */
export function hashFiles(paths: string[]): string {
  const h = createHash('sha256');
  for (const p of paths) if (existsSync(p)) h.update(p.split('/').pop()!).update(readFileSync(p));
  return h.digest('hex').slice(0, 24);
}

/** Appends samples to a new cache folder; `finish` makes it visible under its final name. */
export class TokenStoreWriter {
  private readonly tmp: string;
  private readonly untrack: () => void; // the temporary folder is removed on Ctrl-C (core/temp-paths.ts)
  private readonly idsFd: number;
  private readonly maskFd: number | null;
  private readonly offsets: number[] = [0];
  private idsBuf: Buffer;
  private idsLen = 0;
  private maskBuf: Buffer;
  private maskLen = 0;
  private readonly bytesPerId: number;

  constructor(
    private readonly dir: string,
    private readonly dtype: 'uint16' | 'int32',
    private readonly hasMask: boolean,
  ) {
    removeStaleTemps(dir); // left by a killed run
    this.tmp = `${dir}.tmp-${process.pid}`;
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
    this.untrack = trackTemp(this.tmp);
    this.bytesPerId = dtype === 'uint16' ? 2 : 4;
    this.idsFd = openSync(join(this.tmp, 'ids.bin'), 'w');
    this.maskFd = hasMask ? openSync(join(this.tmp, 'mask.bin'), 'w') : null;
    this.idsBuf = Buffer.alloc(1 << 22);
    this.maskBuf = Buffer.alloc(hasMask ? 1 << 21 : 0);
  }

  get count(): number {
    return this.offsets.length - 1;
  }

  add(s: EncodedSample): void {
    const n = s.ids.length;
    if (this.idsLen + n * this.bytesPerId > this.idsBuf.length) this.flushIds(n * this.bytesPerId);
    for (let i = 0; i < n; i++) {
      const v = s.ids[i];
      if (this.dtype === 'uint16') {
        if (v < 0 || v > 65535) throw new Error(`token id ${v} does not fit the uint16 cache`);
        this.idsBuf.writeUInt16LE(v, this.idsLen);
      } else this.idsBuf.writeInt32LE(v, this.idsLen);
      this.idsLen += this.bytesPerId;
    }
    if (this.maskFd !== null) {
      if (this.maskLen + n > this.maskBuf.length) this.flushMask(n);
      for (let i = 0; i < n; i++) this.maskBuf[this.maskLen++] = s.mask ? s.mask[i] : 1;
    }
    this.offsets.push(this.offsets[this.offsets.length - 1] + n);
  }

  private flushIds(need = 0): void {
    writeSync(this.idsFd, this.idsBuf, 0, this.idsLen);
    this.idsLen = 0;
    if (need > this.idsBuf.length) this.idsBuf = Buffer.alloc(need);
  }

  private flushMask(need = 0): void {
    if (this.maskFd === null) return;
    writeSync(this.maskFd, this.maskBuf, 0, this.maskLen);
    this.maskLen = 0;
    if (need > this.maskBuf.length) this.maskBuf = Buffer.alloc(need);
  }

  /** Flushes, fsyncs, writes meta.json and renames the folder into place. */
  finish(meta: Omit<TokenStoreMeta, 'version' | 'count' | 'totalTokens' | 'dtype' | 'hasMask'>): TokenStoreMeta {
    this.flushIds();
    this.flushMask();
    fsyncSync(this.idsFd);
    closeSync(this.idsFd);
    if (this.maskFd !== null) {
      fsyncSync(this.maskFd);
      closeSync(this.maskFd);
    }
    writeFileSync(join(this.tmp, 'offsets.bin'), Buffer.from(new Float64Array(this.offsets).buffer));
    const full: TokenStoreMeta = { version: 1, count: this.count, totalTokens: this.offsets[this.offsets.length - 1], dtype: this.dtype, hasMask: this.hasMask, ...meta };
    writeFileSync(join(this.tmp, 'meta.json'), JSON.stringify(full, null, 2));
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(this.tmp, this.dir);
    this.untrack();
    return full;
  }

  /** Removes the temporary folder (after an error). */
  abort(): void {
    try {
      closeSync(this.idsFd);
      if (this.maskFd !== null) closeSync(this.maskFd);
    } catch {
      /* already closed */
    }
    rmSync(this.tmp, { recursive: true, force: true });
    this.untrack();
  }
}

/**
 * Reads a finished cache folder: ids.bin and mask.bin memory-mapped (mapped-file.ts), else read
 * into memory up to inMemoryLimit bytes, else sample by sample from the file. Never writes them.
 */
export class TokenStore implements SampleSource {
  readonly meta: TokenStoreMeta;
  private readonly offsets: Float64Array;
  private ids: Uint16Array | Int32Array | null = null;
  private mask: Uint8Array | null = null;
  private idsFd: number | null = null;
  private maskFd: number | null = null;

  static exists(dir: string): boolean {
    return existsSync(join(dir, 'meta.json'));
  }

  constructor(readonly dir: string, inMemoryLimit = 1 << 30) {
    this.meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    const ob = readFileSync(join(dir, 'offsets.bin'));
    this.offsets = new Float64Array(ob.buffer.slice(ob.byteOffset, ob.byteOffset + ob.byteLength));
    const idsPath = join(dir, 'ids.bin');
    const mapped = mapFile(idsPath);
    if (mapped) {
      this.ids = this.meta.dtype === 'uint16' ? new Uint16Array(mapped) : new Int32Array(mapped);
      if (this.meta.hasMask) this.mask = new Uint8Array(mapFile(join(dir, 'mask.bin'))!);
    } else if (statSync(idsPath).size <= inMemoryLimit) {
      const b = readFileSync(idsPath);
      const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      this.ids = this.meta.dtype === 'uint16' ? new Uint16Array(ab) : new Int32Array(ab);
      if (this.meta.hasMask) this.mask = new Uint8Array(readFileSync(join(dir, 'mask.bin')));
    } else {
      this.idsFd = openSync(idsPath, 'r');
      if (this.meta.hasMask) this.maskFd = openSync(join(dir, 'mask.bin'), 'r');
    }
  }

  get length(): number {
    return this.meta.count;
  }

  /** Token count of sample i (without reading it). */
  sampleLength(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }

  get(i: number): EncodedSample {
    if (i < 0 || i >= this.meta.count) throw new RangeError(`sample ${i} out of range [0, ${this.meta.count})`);
    const a = this.offsets[i];
    const n = this.offsets[i + 1] - a;
    const ids = new Int32Array(n);
    let mask: Uint8Array | null = null;
    if (this.ids !== null) {
      for (let k = 0; k < n; k++) ids[k] = this.ids[a + k];
      if (this.mask !== null) mask = this.mask.slice(a, a + n);
    } else {
      const bpi = this.meta.dtype === 'uint16' ? 2 : 4;
      const buf = Buffer.alloc(n * bpi);
      readSync(this.idsFd!, buf, 0, n * bpi, a * bpi);
      for (let k = 0; k < n; k++) ids[k] = bpi === 2 ? buf.readUInt16LE(2 * k) : buf.readInt32LE(4 * k);
      if (this.maskFd !== null) {
        mask = new Uint8Array(n);
        readSync(this.maskFd, mask, 0, n, a);
      }
    }
    return { ids, mask };
  }

  close(): void {
    if (this.idsFd !== null) closeSync(this.idsFd);
    if (this.maskFd !== null) closeSync(this.maskFd);
    this.idsFd = this.maskFd = null;
  }
}
