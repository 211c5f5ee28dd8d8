// `minimind data stats`: one streaming pass that describes a corpus — rows, bytes, characters,
// tokens (with a tokenizer: what training sees, the chat template included), length histograms,
// the share of rows longer than max_seq_len, the script mix, the exact-duplicate rate, and the
// fields and record formats found. Memory: 16 bytes a distinct row for the duplicate count.
// The per-row measures run on worker threads (pool.ts); the tallies are made here, in row order,
// so the numbers are the same whatever the thread count.
import { Rejects } from './rejects.js';
import { ByteProgress, readInputs } from './records.js';
import { kindOf, RecordKind, textOf } from './schema.js';
import { dominantScript, emptyCounts, Script, scriptCounts } from './scripts.js';
import { exactHash } from './normalize.js';
import { HashSet64 } from './hashset.js';
import { openTokenizer, tokensOf, type CorpusTokenizer } from './tokenizer.js';
import { batched, defaultThreads, mapBatches, serveWorker, TOKENIZER_THREADS } from './pool.js';

/** Upper bucket edges (exclusive) of the length histograms; the last bucket is open. */
export const LENGTH_EDGES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

export interface Histogram {
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  /** 50th, 90th and 99th percentiles, estimated from the buckets (upper edge of the bucket). */
  p50: number;
  p90: number;
  p99: number;
}

export interface CorpusStats {
  files: string[];
  rows: number;
  bytes: number;
  chars: Histogram & { total: number };
  tokens: (Histogram & { total: number; overMaxSeqLen: number; maxSeqLen: number }) | null;
  scripts: Record<Script | 'none', number>;
  letters: Record<Script, number>;
  duplicates: { rows: number; rate: number };
  fields: Record<string, number>;
  formats: Partial<Record<RecordKind, number>>;
  rejects: Rejects;
  seconds: number;
}

class LengthHistogram {
  counts = new Array(LENGTH_EDGES.length + 1).fill(0);
  n = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  add(x: number): void {
    let b = 0;
    while (b < LENGTH_EDGES.length && x >= LENGTH_EDGES[b]) b++;
    this.counts[b]++;
    this.n++;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }
  quantile(q: number): number {
    let acc = 0;
    for (let b = 0; b < this.counts.length; b++) {
      acc += this.counts[b];
      if (acc >= q * this.n) return b < LENGTH_EDGES.length ? LENGTH_EDGES[b] : this.max;
    }
    return this.max;
  }
  done(): Histogram & { total: number } {
    return { edges: LENGTH_EDGES, counts: this.counts, min: this.n ? this.min : 0, max: this.max, mean: this.n ? this.sum / this.n : 0, p50: this.quantile(0.5), p90: this.quantile(0.9), p99: this.quantile(0.99), total: this.sum };
  }
}

export interface StatsOptions {
  inputs: string[];
  tokenizer?: CorpusTokenizer;
  maxSeqLen?: number;
  /** Read only this field's text (default: the record's own text or messages). */
  field?: string;
  threads?: number;
  onProgress?: ByteProgress;
}

/** A row to measure, or a row the reader could not read (kept in its place, so rejects keep row order). */
type Job = { where: string; value: Record<string, unknown> } | { where: string; unreadable: string };

/** What one row contributes to the tallies; `error`: the row has no text (or no tokens) to measure. */
interface RowMeasures {
  where: string;
  unreadable?: string;
  error?: string;
  kind?: RecordKind;
  fields?: string[];
  bytes?: number;
  chars?: number;
  letters?: Record<Script, number>;
  hash?: [number, number];
  tokens?: number;
}

interface StatsInit {
  /** The tokenizer's folder: each worker loads its own. */
  tokenizer?: string;
  field?: string;
}

export function makeHandler(init: unknown): (batch: Job[]) => RowMeasures[] {
  const o = init as StatsInit;
  const tok = o.tokenizer === undefined ? null : openTokenizer(o.tokenizer);
  return (batch) =>
    batch.map((j): RowMeasures => {
      if ('unreadable' in j) return j;
      let text: string;
      try {
        text = textOf(j.value, o.field);
      } catch (e) {
        return { where: j.where, error: (e as Error).message };
      }
      const m: RowMeasures = { where: j.where, kind: kindOf(j.value), fields: Object.keys(j.value), bytes: Buffer.byteLength(text), chars: text.length, letters: scriptCounts(text), hash: exactHash(text) };
      if (tok) {
        try {
          m.tokens = tokensOf(tok, j.value, o.field);
        } catch (e) {
          m.error = (e as Error).message;
        }
      }
      return m;
    });
}

export async function corpusStats(o: StatsOptions): Promise<CorpusStats> {
  const t0 = Date.now();
  const rejects = new Rejects();
  const chars = new LengthHistogram();
  const tokens = o.tokenizer ? new LengthHistogram() : null;
  const maxSeqLen = o.maxSeqLen ?? 512;
  let over = 0;
  const scripts: Record<string, number> = { ...emptyCounts(), none: 0 };
  const letters = emptyCounts();
  const seen = new HashSet64();
  const fields: Record<string, number> = {};
  const formats: Partial<Record<RecordKind, number>> = {};
  let rows = 0;
  let bytes = 0;
  let dups = 0;
  const jobs = async function* (): AsyncGenerator<Job> {
    const unreadable: Job[] = [];
    for await (const r of readInputs(o.inputs, { add: (reason, where) => unreadable.push({ where, unreadable: reason }) }, o.onProgress)) {
      yield* unreadable.splice(0);
      yield { where: r.where, value: r.value };
    }
    yield* unreadable.splice(0);
  };
  const init: StatsInit = { tokenizer: o.tokenizer?.dir, field: o.field };
  for await (const batch of mapBatches<Job, RowMeasures>(batched(jobs(), 256), new URL(import.meta.url), init, o.threads ?? defaultThreads(o.tokenizer ? TOKENIZER_THREADS : Infinity))) {
    for (const m of batch) {
      if (m.unreadable !== undefined) {
        rejects.add(m.unreadable, m.where);
        continue;
      }
      if (m.kind === undefined) {
        rejects.add(m.error!, m.where);
        continue;
      }
      rows++;
      formats[m.kind] = (formats[m.kind] ?? 0) + 1;
      for (const k of m.fields!) fields[k] = (fields[k] ?? 0) + 1;
      bytes += m.bytes!;
      chars.add(m.chars!);
      for (const s of Object.keys(m.letters!) as Script[]) letters[s] += m.letters![s];
      scripts[dominantScript(m.letters!)]++;
      if (!seen.add(m.hash![0], m.hash![1])) dups++;
      if (tokens) {
        if (m.tokens === undefined) rejects.add(m.error!, m.where);
        else {
          tokens.add(m.tokens);
          if (m.tokens > maxSeqLen) over++;
        }
      }
    }
  }
  return {
    files: o.inputs,
    rows,
    bytes,
    chars: chars.done(),
    tokens: tokens ? { ...tokens.done(), overMaxSeqLen: over, maxSeqLen } : null,
    scripts: scripts as Record<Script | 'none', number>,
    letters,
    duplicates: { rows: dups, rate: rows ? dups / rows : 0 },
    fields,
    formats,
    rejects,
    seconds: (Date.now() - t0) / 1000,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The summary a person reads in the terminal. */
export function formatStats(s: CorpusStats): string {
  const lines = [`${s.files.join(', ')}: ${s.rows.toLocaleString('en-US')} rows, ${(s.bytes / 1e6).toFixed(2)} MB of text, ${s.chars.total.toLocaleString('en-US')} characters`];
  lines.push(`formats: ${Object.entries(s.formats).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  lines.push(`fields:  ${Object.entries(s.fields).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const hist = (name: string, h: Histogram) => `${name}: mean ${h.mean.toFixed(1)}, min ${h.min}, p50 <${h.p50}, p90 <${h.p90}, p99 <${h.p99}, max ${h.max}`;
  lines.push(hist('characters per row', s.chars));
  if (s.tokens) {
    lines.push(hist('tokens per row', s.tokens) + ` (total ${s.tokens.total.toLocaleString('en-US')})`);
    lines.push(`rows over --max-seq-len ${s.tokens.maxSeqLen}: ${s.tokens.overMaxSeqLen} (${pct(s.rows ? s.tokens.overMaxSeqLen / s.rows : 0)}; they are truncated in training)`);
  }
  lines.push(`scripts (rows by most letters): ${Object.entries(s.scripts).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${pct(n / Math.max(s.rows, 1))}`).join(', ')}`);
  lines.push(`exact duplicates (normalised): ${s.duplicates.rows} rows (${pct(s.duplicates.rate)})`);
  if (s.rejects.total > 0) lines.push(`unreadable rows: ${s.rejects.total}`, ...s.rejects.lines());
  return lines.join('\n');
}

serveWorker(makeHandler);
