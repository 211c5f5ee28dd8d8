// `minimind data dedup`: drops exact duplicates (same text after NFKC, lower case and whitespace
// folding) and near duplicates (MinHash + LSH with datatrove's defaults: rows sharing any band's
// signature are one cluster, clusters joined transitively), keeping the first row of each cluster,
// so the result does not depend on thread count. Two streaming passes: the first computes the keys
// (on worker threads) and the clusters (a union-find over row numbers), the second writes the rows
// to keep. Memory: 12-byte slots in hash tables 3/8 to 3/4 full (one for exact keys, one per band:
// 16-32 bytes a row each, ~270-315 bytes a row with 14 bands) plus 5 bytes a row, whatever the text sizes.
import { Rejects } from './rejects.js';
import { statSync } from 'node:fs';
import { ByteProgress, checkInputs, formatOf, noReadableRows, readInputs, readRecords } from './records.js';
import { lineChunks } from '../data/lines.js';
import { HashMap64 } from './hashset.js';
import type { MinhashConfig } from './minhash.js';
import { batched, defaultThreads, mapBatches } from './pool.js';
import type { DedupInit, RowKeys } from './dedup-worker.js';
import type { ExactChunk, ExactChunkKeys } from './exact-worker.js';
import { withWriters } from './writer.js';
import { exactHash } from './normalize.js';
import { textOf } from './schema.js';

export interface DedupOptions {
  inputs: string[];
  output: string;
  exact?: boolean;
  /** MinHash settings, or false for exact deduplication only. */
  near?: Partial<MinhashConfig> | false;
  field?: string;
  /** Also write every removed row with the place of the row it duplicates. */
  removed?: string;
  threads?: number;
  onProgress?: ByteProgress;
}

export interface DedupSummary {
  rows: number;
  kept: number;
  exactDuplicates: number;
  nearDuplicates: number;
  /** Clusters of two or more rows. */
  clusters: number;
  unreadable: Rejects;
  seconds: number;
  inputBytes: number;
}

/** Union-find over row numbers; the root of a cluster is always its smallest row. */
class Clusters {
  parent = new Int32Array(1 << 16);
  size = 0;
  add(): number {
    if (this.size === this.parent.length) {
      const p = new Int32Array(this.parent.length * 2);
      p.set(this.parent);
      this.parent = p;
    }
    this.parent[this.size] = this.size;
    return this.size++;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

// A worker thread costs ~40 ms of CPU to start (its own V8 isolate, modules and WebAssembly) and
// each chunk a copy to it: on the 2-core machine (2026-12-06) one thread hashed a 16 MB jsonl file
// sooner than two workers, two workers a 40 MB one. Smaller files stay on this thread.
const WORKERS_FROM_BYTES = 32e6;

/**
 * Exact deduplication alone: one pass. A jsonl input goes by chunks of whole lines to worker
 * threads (from WORKERS_FROM_BYTES), which parse the lines and hash the keys (exact-worker.ts);
 * kept lines are written back as the bytes read, so this thread only looks keys up. Other formats
 * are read row by row here. Keys come back in input order, so the first row of each key is kept
 * whatever the thread count.
 */
async function dedupExact(o: DedupOptions): Promise<DedupSummary> {
  const t0 = Date.now();
  checkInputs(o.inputs);
  const sizes = o.inputs.map((p) => statSync(p).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const threads = o.threads ?? defaultThreads();
  const unreadable = new Rejects();
  const seen = new HashMap64();
  let rows = 0;
  let dups = 0;
  const clusters = new Set<number>();
  const where: string[] = []; // of kept rows, with --removed only
  let records = 0; // rows read as JSON objects, with a text or not
  let bad = 0; // rows that could not be read
  let firstBad = '';
  const paths = o.removed ? [o.output, o.removed] : [o.output];
  const kept = await withWriters(paths, async ([out, rem]) => {
    // one row and its key: written when the key is new, else counted (and written to --removed)
    const visit = (hi: number, lo: number, here: () => string, write: () => void, value: () => unknown) => {
      const first = seen.getOrSet(hi, lo, rows);
      if (first === rows) {
        write();
        if (rem) where[rows] = here();
      } else {
        dups++;
        clusters.add(first);
        rem?.write({ duplicate_of: where[first], kind: 'exact', where: here(), row: value() });
      }
      rows++;
    };
    let before = 0;
    for (let k = 0; k < o.inputs.length; k++) {
      const path = o.inputs[k];
      const onBytes = (b: number) => o.onProgress?.(before + b, total);
      if (formatOf(path) === 'jsonl') {
        const sent: Uint8Array[] = []; // chunks in flight, in order, to write kept lines from
        const chunks = async function* () {
          let first = true;
          for await (const bytes of lineChunks(path, 1 << 20, onBytes)) {
            sent.push(bytes);
            yield [{ bytes, first }];
            first = false;
          }
        };
        let linesBefore = 0;
        const workers = sizes[k] < WORKERS_FROM_BYTES ? 1 : threads; // 1: on this thread
        for await (const [keys] of mapBatches<ExactChunk, ExactChunkKeys>(chunks(), new URL('./exact-worker.js', import.meta.url), { field: o.field }, workers)) {
          const bytes = sent.shift()!;
          for (const s of keys.skipped) {
            const at = `${path}:${linesBefore + s.line + 1}`;
            unreadable.add(s.reason, at);
            if (s.record) records++;
            else if (bad++ === 0) firstBad = `${at}: ${s.reason}`;
          }
          records += keys.hi.length;
          for (let i = 0; i < keys.hi.length; i++) {
            const line = bytes.subarray(keys.start[i], keys.end[i]);
            visit(keys.hi[i], keys.lo[i], () => `${path}:${linesBefore + keys.line[i] + 1}`, () => out.writeBytes(line), () => JSON.parse(Buffer.from(line).toString('utf8')));
          }
          linesBefore += keys.lines;
        }
      } else {
        const onBadRow = (w: string, reason: string) => {
          unreadable.add(reason, w);
          if (bad++ === 0) firstBad = `${w}: ${reason}`;
        };
        for await (const r of readRecords(path, { onBadRow, onBytes })) {
          records++;
          let text: string;
          try {
            text = textOf(r.value, o.field);
          } catch (e) {
            unreadable.add((e as Error).message, r.where);
            continue;
          }
          const [hi, lo] = exactHash(text);
          visit(hi, lo, () => r.where, () => (r.raw !== undefined ? out.writeLine(r.raw) : out.write(r.value)), () => r.value);
        }
      }
      before += sizes[k];
      o.onProgress?.(before, total);
    }
    // as readInputs: no readable row at all is an error, and withWriters leaves no output behind
    if (records === 0) throw noReadableRows(o.inputs, bad, firstBad);
    return out.rows;
  });
  return { rows, kept, exactDuplicates: dups, nearDuplicates: 0, clusters: clusters.size, unreadable, seconds: (Date.now() - t0) / 1000, inputBytes: total };
}

export async function dedup(o: DedupOptions): Promise<DedupSummary> {
  if (o.near === false) return dedupExact(o);
  const t0 = Date.now();
  // minhash.js (xxhash-wasm, the native addon, the word rules) only loads for near dedup
  const { MINHASH_DEFAULTS } = await import('./minhash.js');
  const near = { ...MINHASH_DEFAULTS, ...o.near };
  const init: DedupInit = { exact: o.exact !== false, near, field: o.field };
  const unreadable = new Rejects();
  const clusters = new Clusters();
  let isExact = new Uint8Array(1024); // 1 where a row is an exact copy of an earlier one
  const exactIndex = new HashMap64();
  const bandIndex = Array.from({ length: near.bands }, () => new HashMap64());
  let inputBytes = 0;

  // pass 1: keys and clusters
  const values = async function* () {
    for await (const r of readInputs(o.inputs, unreadable, (d, t) => o.onProgress?.(d / 2, t))) yield r.value;
  };
  const noText = new Set<number>();
  for await (const keys of mapBatches<Record<string, unknown>, RowKeys>(batched(values(), 256), new URL('./dedup-worker.js', import.meta.url), init, o.threads ?? defaultThreads())) {
    for (const k of keys) {
      const i = clusters.add();
      if (isExact.length <= i) {
        const grown = new Uint8Array(isExact.length * 2);
        grown.set(isExact);
        isExact = grown;
      }
      if (k.error !== undefined) {
        noText.add(i);
        continue;
      }
      if (k.exact) {
        const first = exactIndex.getOrSet(k.exact[0], k.exact[1], i);
        if (first !== i) {
          clusters.union(first, i);
          isExact[i] = 1;
        }
      }
      if (k.bands) {
        for (let b = 0; b < bandIndex.length; b++) {
          const first = bandIndex[b].getOrSet(k.bands[2 * b], k.bands[2 * b + 1], i);
          if (first !== i) clusters.union(first, i);
        }
      }
    }
  }
  const rows = clusters.size;

  // pass 2: write the first row of each cluster (unreadable rows were already left out)
  let exactDuplicates = 0;
  let nearDuplicates = 0;
  const roots = new Set<number>();
  const where: string[] = [];
  const paths = o.removed ? [o.output, o.removed] : [o.output];
  const kept = await withWriters(paths, async ([out, rem]) => {
    let i = 0;
    for await (const r of readInputs(o.inputs, new Rejects(), (d, t) => {
      inputBytes = d;
      o.onProgress?.(t / 2 + d / 2, t);
    })) {
      const root = clusters.find(i);
      if (noText.has(i)) unreadable.add('no text to compare', r.where);
      else if (root === i) {
        if (r.raw !== undefined) out.writeLine(r.raw);
        else out.write(r.value);
        if (o.removed) where[i] = r.where;
      } else {
        roots.add(root);
        if (isExact[i]) exactDuplicates++;
        else nearDuplicates++;
        rem?.write({ duplicate_of: where[root] ?? `row ${root + 1}`, kind: isExact[i] ? 'exact' : 'near', where: r.where, row: r.value });
      }
      i++;
    }
    return out.rows;
  });
  return { rows, kept, exactDuplicates, nearDuplicates, clusters: roots.size, unreadable, seconds: (Date.now() - t0) / 1000, inputBytes };
}
