// A page has no worker threads: a stage tokenizes its cache on the page's own thread, whatever
// `threads` asks (cache-encoder.ts is the Node side).
import type { RecordsEncoder } from '../data/datasets.js';

export function cacheEncoder(_tokenizerDir: string, _files: readonly string[], _threads: number | undefined, _log?: (m: string) => void): RecordsEncoder | undefined {
  return undefined;
}
