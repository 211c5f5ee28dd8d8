// Where a stage tokenizes its data into <run>/cache: on worker threads (corpus/encode-workers.ts),
// `threads` of them, by default the cores less one and at most TOKENIZER_THREADS (each holds its
// own tokenizer), as `minimind data tokenize` does. The cache is byte for byte the one a single
// thread writes, so its key does not depend on the thread count. A page has no worker threads:
// cache-encoder.browser.ts tokenizes on the page's own thread.
import type { RecordsEncoder } from '../data/datasets.js';
import { workerEncoder } from '../corpus/encode-workers.js';
import { defaultThreads, TOKENIZER_THREADS } from '../corpus/pool.js';

/** DatasetOptions.encode for a stage: undefined for one thread (buildTokenStore encodes in place). */
export function cacheEncoder(tokenizerDir: string, threads: number | undefined, log?: (m: string) => void): RecordsEncoder | undefined {
  const n = threads ?? defaultThreads(TOKENIZER_THREADS);
  const encode = workerEncoder(tokenizerDir, n);
  if (!encode) return undefined;
  return (jobs, spec) => {
    log?.(`tokenizing on ${n} worker threads`);
    return encode(jobs, spec);
  };
}
