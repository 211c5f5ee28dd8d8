// `minimind data clean`: repairs every text (line endings, control characters, HTML remnants,
// Unicode normal form), drops rows outside the length bounds, then applies the heuristic quality
// filters in FineWeb's order — Gopher repetition, Gopher quality, C4 — each with datatrove's
// defaults. Every dropped row is counted under its reason with its place and a sample of its text;
// --rejected FILE keeps them all with their reason. The per-row work runs on worker threads.
import { Rejects } from './rejects.js';
import { ByteProgress, readInputs } from './records.js';
import { kindOf, mapTexts, textOf } from './schema.js';
import { normalizeText, NormalizeOptions } from './normalize.js';
import { gopherQuality, gopherRepetition } from './filters/gopher.js';
import { c4Quality } from './filters/c4.js';
import { splitWords } from './filters/words.js';
import { batched, defaultThreads, mapBatches, serveWorker } from './pool.js';
import { withWriters } from './writer.js';

export const FILTERS = ['gopher-repetition', 'gopher-quality', 'c4'] as const;
export type FilterName = (typeof FILTERS)[number];

export interface CleanRules {
  normalize: NormalizeOptions | false;
  /** Rows whose text is shorter / longer (in characters, after repairs) are dropped. */
  minChars: number;
  maxChars: number;
  filters: FilterName[];
  /** Read and rewrite only this field (default: the text, or every message's content). */
  field?: string;
}

export const CLEAN_DEFAULTS: CleanRules = { normalize: { form: 'NFC', html: true }, minChars: 1, maxChars: Infinity, filters: [] };

export type CleanResult = { keep: string } | { reason: string; text: string };

/** One row through the repairs and filters: the output jsonl line, or why it was dropped. */
export function cleanRow(value: Record<string, unknown>, rules: CleanRules): CleanResult {
  let v = value;
  if (rules.normalize !== false) {
    const n = rules.normalize;
    v = mapTexts(v, (s) => normalizeText(s, n), rules.field);
  }
  let text = textOf(v, rules.field);
  if (text.trim().length < rules.minChars) return { reason: 'too_short', text };
  if (text.length > rules.maxChars) return { reason: 'too_long', text };
  let words: string[] | undefined;
  for (const f of rules.filters) {
    if (f === 'gopher-repetition') {
      words ??= splitWords(text);
      const r = gopherRepetition(text, words);
      if (r) return { reason: r, text };
    } else if (f === 'gopher-quality') {
      words ??= splitWords(text);
      const r = gopherQuality(text, words);
      if (r) return { reason: r, text };
    } else {
      const r = c4Quality(text);
      if ('drop' in r) return { reason: `c4_${r.drop}`, text };
      // C4 keeps only the good lines: rewrite the text of a plain-text row (chat rows keep theirs)
      if (r.text !== text && (rules.field !== undefined || kindOf(v) === 'text')) {
        v = rules.field !== undefined ? { ...v, [rules.field]: r.text } : { ...v, text: r.text };
        text = r.text;
        words = undefined;
      }
    }
  }
  return { keep: JSON.stringify(v) };
}

export interface CleanOptions extends Partial<CleanRules> {
  inputs: string[];
  output: string;
  /** Also write every dropped row with its reason ({"reason", "where", "row"}). */
  rejected?: string;
  threads?: number;
  onProgress?: ByteProgress;
}

export interface CleanSummary {
  rows: number;
  kept: number;
  /** Dropped rows by reason (filters) and unreadable rows by reason. */
  dropped: Rejects;
  unreadable: Rejects;
  seconds: number;
  inputBytes: number;
}

type Job = { value: Record<string, unknown>; where: string };
type JobResult = { keep: string } | { reason: string; text: string; where: string; row: Record<string, unknown> };

export function makeHandler(init: unknown): (batch: Job[]) => JobResult[] {
  const rules = init as CleanRules;
  return (batch) =>
    batch.map((j) => {
      let r: CleanResult;
      try {
        r = cleanRow(j.value, rules);
      } catch (e) {
        return { reason: (e as Error).message, text: '', where: j.where, row: j.value };
      }
      return 'keep' in r ? r : { ...r, where: j.where, row: j.value };
    });
}

export async function clean(o: CleanOptions): Promise<CleanSummary> {
  const t0 = Date.now();
  const d = CLEAN_DEFAULTS;
  const rules: CleanRules = { normalize: o.normalize ?? d.normalize, minChars: o.minChars ?? d.minChars, maxChars: o.maxChars ?? d.maxChars, filters: o.filters ?? d.filters, field: o.field };
  const unreadable = new Rejects();
  const dropped = new Rejects();
  let rows = 0;
  let inputBytes = 0;
  const progress: ByteProgress = (d, t) => {
    inputBytes = d;
    o.onProgress?.(d, t);
  };
  const jobs = async function* (): AsyncGenerator<Job> {
    for await (const r of readInputs(o.inputs, unreadable, progress)) yield { value: r.value, where: r.where };
  };
  const paths = o.rejected ? [o.output, o.rejected] : [o.output];
  const kept = await withWriters(paths, async ([out, rej]) => {
    for await (const results of mapBatches<Job, JobResult>(batched(jobs(), 256), new URL(import.meta.url), rules, o.threads ?? defaultThreads())) {
      for (const r of results) {
        rows++;
        if ('keep' in r) out.writeLine(r.keep);
        else {
          dropped.add(r.reason, r.where, r.text);
          rej?.write({ reason: r.reason, where: r.where, row: r.row });
        }
      }
    }
    return out.rows;
  });
  return { rows, kept, dropped, unreadable, seconds: (Date.now() - t0) / 1000, inputBytes };
}

serveWorker(makeHandler);
