// `minimind data mix`: several sources in one shuffled file, each with a share of the rows (its
// weight) or of a token budget. A source asked for more rows than it has is repeated (whole
// passes, then a random part), and says so. Three streaming passes: count (and with a token
// budget, tokenize) each source; choose each row's number of copies from a seeded permutation;
// write the copies through the external shuffle.
import { Rejects } from './rejects.js';
import { checkInputs, readInputs, type ByteProgress } from './records.js';
import { ExternalShuffle } from './shuffle.js';
import { withWriters } from './writer.js';
import { permutation, mixSeed } from '../data/rng.js';
import { UserError } from '../core/errors.js';
import { statSync } from 'node:fs';
import { tokensOf, type CorpusTokenizer } from './tokenizer.js';
import { kindOf, type RecordKind } from './schema.js';

export interface MixSource {
  path: string;
  weight: number;
}

export interface MixOptions {
  sources: MixSource[];
  output: string;
  /** Rows in the output (default: as many as the sources give without repeating any). */
  rows?: number;
  /** A token budget instead of rows (needs tokenizer). */
  tokens?: number;
  tokenizer?: CorpusTokenizer;
  seed?: number;
  /** Bytes read so far over both passes of every source, and their total (a progress bar). */
  onProgress?: ByteProgress;
}

export interface MixSummary {
  rows: number;
  sources: { path: string; available: number; taken: number; tokens?: number; repeated: number }[];
  unreadable: Rejects;
}

/** What a training stage reads a row as (a mixed file of two of these trains in neither stage). */
function schemaOf(kind: RecordKind): string {
  if (kind === 'text') return 'pretrain text';
  if (kind === 'dpo') return 'preference (chosen/rejected)';
  if (kind === 'unknown') return 'unknown';
  return 'conversation';
}

/** Parses `path[:weight]` (the weight after the last colon, when it is a number). */
export function parseSource(spec: string): MixSource {
  const m = /^(.*):(-?[0-9]*\.?[0-9]+(?:e[-+]?\d+)?)$/i.exec(spec);
  const source = m ? { path: m[1], weight: Number(m[2]) } : { path: spec, weight: 1 };
  if (!(source.weight > 0)) throw new UserError(`--source ${spec}: the weight must be a number > 0`);
  return source;
}

/** Copies of each row: the first `n` rows of a seeded permutation, whole passes first when n > count.
 *  32-bit counts: a small source asked for many rows repeats each row more than 65,535 times. */
function copies(count: number, n: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  const full = Math.floor(n / count);
  if (full > 0) out.fill(full);
  const perm = permutation(count, seed);
  for (let k = 0; k < n - full * count; k++) out[perm[k]]++;
  return out;
}

export async function mix(o: MixOptions): Promise<MixSummary> {
  if (o.sources.length === 0) throw new UserError('give at least one --source');
  if (o.tokens !== undefined && !o.tokenizer) throw new UserError('--tokens needs --tokenizer (to count tokens)');
  const seed = o.seed ?? 42;
  checkInputs(o.sources.map((s) => s.path)); // a missing second source fails before the first is read
  const sizes = o.sources.map((s) => statSync(s.path).size);
  const total = 2 * sizes.reduce((a, b) => a + b, 0); // every source is read twice
  let before = 0; // bytes of the sources read in full so far, over both passes
  const progress: ByteProgress | undefined = o.onProgress && ((done) => o.onProgress!(before + done, total));
  const finished = (k: number) => {
    before += sizes[k];
    o.onProgress?.(before, total);
  };
  const unreadable = new Rejects();
  const totalWeight = o.sources.reduce((a, s) => a + s.weight, 0);
  // pass 1: rows (and tokens) per source
  const counts: number[] = [];
  const rowTokens: Int32Array[] = [];
  const sourceSchemas: string[] = []; // each source's most common kind of row
  for (const [k, s] of o.sources.entries()) {
    let n = 0;
    const toks: number[] = [];
    const schemas = new Map<string, number>();
    for await (const r of readInputs([s.path], unreadable, progress)) {
      n++;
      if (o.tokenizer) toks.push(tokensOf(o.tokenizer, r.value));
      const sc = schemaOf(kindOf(r.value));
      schemas.set(sc, (schemas.get(sc) ?? 0) + 1);
    }
    finished(k);
    sourceSchemas.push([...schemas].sort((a, b) => b[1] - a[1])[0][0]);
    const first = sourceSchemas.findIndex((x) => x !== 'unknown');
    if (first !== -1 && sourceSchemas[k] !== 'unknown' && sourceSchemas[k] !== sourceSchemas[first]) {
      throw new UserError(`--source ${s.path} holds ${sourceSchemas[k]} rows but --source ${o.sources[first].path} ${sourceSchemas[first]} rows; no stage trains on both: mix sources of one kind (minimind data convert --to pretrain|sft|dpo first)`);
    }
    counts.push(n);
    rowTokens.push(Int32Array.from(toks));
  }
  // rows wanted from each source
  const want: Uint32Array[] = o.sources.map((s, k) => {
    const sseed = mixSeed(seed, k + 1);
    if (o.tokens !== undefined) {
      // take rows in permutation order (repeating passes) until the source's share of the budget is reached
      const budget = (o.tokens * s.weight) / totalWeight;
      const perm = permutation(counts[k], sseed);
      const out = new Uint32Array(counts[k]);
      let got = 0;
      for (let i = 0; got < budget; i = (i + 1) % counts[k]) {
        out[perm[i]]++;
        got += rowTokens[k][perm[i]];
      }
      return out;
    }
    const total = o.rows ?? Math.floor(Math.min(...o.sources.map((x, j) => (counts[j] * totalWeight) / x.weight)));
    return copies(counts[k], Math.round((total * s.weight) / totalWeight), sseed);
  });
  // passes 2-3: copies into the external shuffle, then out
  const bytes = o.sources.reduce((a, s, k) => a + (statSync(s.path).size * want[k].reduce((x, y) => x + y, 0)) / counts[k], 0);
  const sources: MixSummary['sources'] = [];
  const rows = await withWriters([o.output], async ([out]) => {
    const shuffle = new ExternalShuffle(bytes, seed, o.output);
    try {
      for (let k = 0; k < o.sources.length; k++) {
        let i = 0;
        let taken = 0;
        let tokens = 0;
        for await (const r of readInputs([o.sources[k].path], new Rejects(), progress)) {
          const c = want[k][i];
          if (c > 0) {
            const line = r.raw ?? JSON.stringify(r.value);
            for (let m = 0; m < c; m++) shuffle.add(line);
            taken += c;
            if (o.tokenizer) tokens += c * rowTokens[k][i];
          }
          i++;
        }
        sources.push({ path: o.sources[k].path, available: counts[k], taken, ...(o.tokenizer ? { tokens } : {}), repeated: want[k].reduce((m, x) => Math.max(m, x), 0) }); // (no spread: a long array overflows the stack)
      }
      shuffle.drainTo(out);
    } finally {
      shuffle.dispose();
    }
    return out.rows;
  });
  return { rows, sources, unreadable };
}
