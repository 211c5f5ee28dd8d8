// Encoding records into a token store on worker threads: what `minimind data tokenize` and the
// training stages' token cache (train/cache-encoder.ts) both use. Each worker loads its own copy
// of the tokenizer from its folder and runs buildTokenStore's per-record work (recordEncoder);
// pool.ts hands the batches back in record order, so the store is byte for byte the one a single
// thread writes, and at most 2 batches per worker are in flight, so memory stays bounded.
import { recordEncoder, type EncodeSpec, type EncodedRecord, type RecordJob, type RecordsEncoder } from '../data/datasets.js';
import { openTokenizer } from './tokenizer.js';
import { batched, mapBatches, serveWorker } from './pool.js';

/** Records per batch sent to a worker. */
const BATCH = 256;

interface EncodeInit {
  /** The tokenizer's folder: each worker loads its own. */
  tokenizer: string;
  spec: EncodeSpec;
}

export function makeHandler(init: unknown): (batch: RecordJob[]) => EncodedRecord[] {
  const o = init as EncodeInit;
  return recordEncoder(openTokenizer(o.tokenizer).tok, o.spec);
}

/**
 * An encoder for buildTokenStore (DatasetOptions.encode) on `threads` workers that each load the
 * tokenizer in `tokenizerDir`; undefined for one thread (buildTokenStore then encodes in place,
 * with the tokenizer it already holds, and no worker starts).
 */
export function workerEncoder(tokenizerDir: string, threads: number): RecordsEncoder | undefined {
  if (threads <= 1) return undefined;
  return (jobs, spec) => mapBatches<RecordJob, EncodedRecord>(batched(jobs, BATCH), new URL(import.meta.url), { tokenizer: tokenizerDir, spec } satisfies EncodeInit, threads);
}

serveWorker(makeHandler);
