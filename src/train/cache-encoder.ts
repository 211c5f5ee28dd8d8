// Where a stage tokenizes its data into <run>/cache: on worker threads (corpus/encode-workers.ts),
// `threads` of them, by default the cores less one and at most TOKENIZER_THREADS (each holds its
// own tokenizer), as `minimind data tokenize` does; without --threads, data under SMALL_DATA_BYTES
// stays on one thread (starting workers that each load a tokenizer costs more than it saves). The cache is byte for byte the one a single
// thread writes, so its key does not depend on the thread count. A page has no worker threads:
// cache-encoder.browser.ts tokenizes on the page's own thread.
import type { RecordsEncoder } from '../data/datasets.js';
import { workerEncoder } from '../corpus/encode-workers.js';
import { defaultThreads, TOKENIZER_THREADS } from '../corpus/pool.js';
import { statSync } from '../io/fs.js';

/** Below this much data a stage tokenizes on one thread unless --threads says otherwise (~1 s of encoding). */
export const SMALL_DATA_BYTES = 8e6;

/** DatasetOptions.encode for a stage reading `files`: undefined for one thread (buildTokenStore encodes in place). */
export function cacheEncoder(tokenizerDir: string, files: readonly string[], threads: number | undefined, log?: (m: string) => void): RecordsEncoder | undefined {
  const bytes = files.reduce((s, f) => s + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  const n = threads ?? (bytes < SMALL_DATA_BYTES ? 1 : defaultThreads(TOKENIZER_THREADS));
  const encode = workerEncoder(tokenizerDir, n);
  if (!encode) return undefined;
  return (jobs, spec) => {
    log?.(`tokenizing on ${n} worker threads`);
    return encode(jobs, spec);
  };
}
