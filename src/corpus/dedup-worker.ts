// The per-row work of `data dedup`, run on worker threads (pool.ts): the exact-duplicate hash
// and the MinHash LSH band keys of each row's text.
import { exactHash } from './normalize.js';
import { bandKeys, MinhashConfig, minhashParams, shingleText, textSignature } from './minhash.js';
import { textOf } from './schema.js';
import { serveWorker } from './pool.js';

export interface DedupInit {
  exact: boolean;
  near: MinhashConfig | null;
  field?: string;
}

export interface RowKeys {
  /** (hi, lo) of the normalised text's hash; null when exact dedup is off. */
  exact: [number, number] | null;
  /** 2 * bands uint32; null when near dedup is off or the text has fewer units than a shingle. */
  bands: Uint32Array | null;
  error?: string;
}

export function makeHandler(init: unknown): (batch: Record<string, unknown>[]) => RowKeys[] {
  const o = init as DedupInit;
  const params = o.near ? minhashParams(o.near.bands * o.near.rows, o.near.seed) : null;
  return (batch) =>
    batch.map((value) => {
      let text: string;
      try {
        text = textOf(value, o.field);
      } catch (e) {
        return { exact: null, bands: null, error: (e as Error).message };
      }
      const exact = o.exact ? exactHash(text) : null;
      if (!o.near) return { exact, bands: null };
      const sig = textSignature(shingleText(text, o.near.unit), o.near.unit, o.near.ngram, params!);
      return { exact, bands: sig && bandKeys(sig, o.near.bands, o.near.rows) };
    });
}

serveWorker(makeHandler);
