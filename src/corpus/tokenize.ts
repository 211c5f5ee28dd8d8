// `minimind data tokenize`: a corpus -> a pre-tokenized folder that pretrain / sft / dpo read
// directly (--data FOLDER), so a large corpus is tokenized once, ahead of training and on another
// machine if need be. The folder is the stages' own token store (data/token-cache.ts: ids.bin,
// mask.bin, offsets.bin, meta.json), written by the same code that fills their cache
// (data/datasets.ts buildTokenStore), so the ids are exactly what the stage would have made; its
// meta.json carries the tokenizer's fingerprint, and a stage refuses a folder made with another
// tokenizer, for another stage, or with a longer max length. The encoding runs on worker threads
// (encode-workers.ts), each with its own copy of the tokenizer; the samples come back in record
// order, so the folder is byte for byte the same whatever the thread count.
import { buildTokenStore, DatasetKind } from '../data/datasets.js';
import type { TokenStoreMeta } from '../data/token-cache.js';
import { UserError } from '../core/errors.js';
import { checkInputs } from './records.js';
import { Rejects } from './rejects.js';
import type { CorpusTokenizer } from './tokenizer.js';
import { encodeThreads } from './pool.js';
import { workerEncoder } from './encode-workers.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface TokenizeOptions {
  inputs: string[];
  output: string;
  kind: DatasetKind;
  tokenizer: CorpusTokenizer;
  maxSeqLen: number;
  threads?: number;
  onProgress?: (records: number) => void;
  log?: (msg: string) => void;
}

/**
 * The folder is replaced as a whole when it is written (token-cache.ts finish), so an existing
 * --output must be empty or a folder this command made: a run folder or a dataset folder given by
 * mistake with --overwrite would otherwise be deleted with everything in it.
 */
function refuseForeignOutput(output: string): void {
  if (!existsSync(output)) return;
  if (!statSync(output).isDirectory()) throw new UserError(`--output ${output} is a file; tokenize writes a folder: choose another --output`);
  if (readdirSync(output).length === 0) return;
  let meta: { count?: unknown; dtype?: unknown; source?: { kind?: unknown } } | null = null;
  try {
    meta = JSON.parse(readFileSync(join(output, 'meta.json'), 'utf8'));
  } catch {
    /* no meta.json, or not JSON: not a tokenized folder */
  }
  if (typeof meta?.count !== 'number' || typeof meta.dtype !== 'string' || typeof meta.source?.kind !== 'string') {
    throw new UserError(`--output ${output} is a folder that 'minimind data tokenize' did not make (no token store meta.json); it would be deleted with everything in it: choose another --output`);
  }
}

/** The folder's meta, the rows skipped (counted by reason, with their first places) and the time taken. */
export async function tokenize(o: TokenizeOptions): Promise<{ meta: TokenStoreMeta; badLines: number; rejects: Rejects; seconds: number }> {
  checkInputs(o.inputs);
  for (const f of o.inputs) {
    const e = extname(f).toLowerCase();
    if (e !== '.jsonl' && e !== '.csv') throw new UserError(`${f}: tokenize reads MiniMind jsonl (or v1 csv); run 'minimind data convert --to ${o.kind}' first`);
  }
  if (!Number.isInteger(o.maxSeqLen) || o.maxSeqLen < 2) throw new UserError(`--max-seq-len must be an integer >= 2, got ${o.maxSeqLen}`);
  refuseForeignOutput(o.output);
  const encode = workerEncoder(o.tokenizer.dir, encodeThreads(o.inputs, o.threads));
  const t0 = Date.now();
  const rejects = new Rejects();
  const onBadLine = (file: string, line: number, reason: string) => rejects.add(reason, `${file}:${line}`);
  const r = await buildTokenStore(
    { kind: o.kind, files: o.inputs, tokenizer: o.tokenizer.tok, tokenizerKey: o.tokenizer.fingerprint, maxLength: o.maxSeqLen, cacheDir: '', skipBadLines: true, onBadLine, vocabSize: o.tokenizer.vocabSize, encode, onProgress: o.onProgress, log: o.log },
    o.output,
  ).catch((e: Error) => {
    throw e instanceof UserError ? e : new UserError(e.message);
  });
  return { ...r, rejects, seconds: (Date.now() - t0) / 1000 };
}
