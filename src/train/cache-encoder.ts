// Where a stage tokenizes its data into <run>/cache: on worker threads (corpus/encode-workers.ts),
// as many as `minimind data tokenize` uses (pool.ts encodeThreads: --threads, else one for data
// under 8 MB, else the cores less one up to 8, each worker holding its own tokenizer). The cache
// is byte for byte the one a single thread writes, so its key does not depend on the thread
// count. A page has no worker threads: cache-encoder.browser.ts tokenizes on the page's own thread.
import type { RecordsEncoder } from '../data/datasets.js';
import { workerEncoder } from '../corpus/encode-workers.js';
import { encodeThreads } from '../corpus/pool.js';

/** DatasetOptions.encode for a stage reading `files`: undefined for one thread (buildTokenStore encodes in place). */
export function cacheEncoder(tokenizerDir: string, files: readonly string[], threads: number | undefined, log?: (m: string) => void): RecordsEncoder | undefined {
  const n = encodeThreads(files, threads);
  const encode = workerEncoder(tokenizerDir, n);
  if (!encode) return undefined;
  return (jobs, spec) => {
    log?.(`tokenizing on ${n} worker threads`);
    return encode(jobs, spec);
  };
}
