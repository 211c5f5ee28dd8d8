// Batched next-token logits at chosen positions of many token sequences: the one forward-pass loop
// under every benchmark here. Rows are sorted by length (longest first, so the peak memory is met at
// once) and cut into batches; each batch is right-padded to its longest row. The attention is
// causal, so a position never sees the padding after it: the logits of row b at position t are
// those of the row run alone. Only the requested positions go through the final norm and lm_head
// (MiniMindForCausalLM.forward's `positions`), and only their (N, V) logits come back to the host.
import { noGrad } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import { tensor } from '../core/tensor.js';
import type { MiniMindForCausalLM } from '../model/model.js';

export interface LogitsRow {
  ids: readonly number[];
  /** Positions t whose logits (the prediction of token t + 1) are wanted. */
  positions: readonly number[];
}

export interface BatchLogitsOptions {
  /** Rows per forward pass. */
  batchSize: number;
  /** Any id in the vocabulary; it only fills the tail of shorter rows. */
  padId?: number;
  /** Called after each batch with the rows done so far and the (unpadded) tokens in the batch. */
  onProgress?: (rowsDone: number, tokens: number) => void;
}

/**
 * Runs every row through the model and calls onLogits(row, k, logits) with the V logits at
 * rows[row].positions[k]. `logits` is a view into a per-batch buffer: copy what you keep.
 */
export function forEachLogits(
  model: MiniMindForCausalLM,
  rows: readonly LogitsRow[],
  opts: BatchLogitsOptions,
  onLogits: (row: number, k: number, logits: Float32Array) => void,
): void {
  const B = Math.max(1, Math.floor(opts.batchSize));
  const V = model.config.vocab_size;
  const maxLen = model.config.max_position_embeddings;
  rows.forEach((r, i) => {
    if (r.ids.length === 0) throw new Error(`forEachLogits: row ${i} is empty`);
    if (r.ids.length > maxLen) throw new Error(`forEachLogits: row ${i} has ${r.ids.length} tokens, more than the model's ${maxLen} positions`);
    for (const p of r.positions) if (p < 0 || p >= r.ids.length) throw new Error(`forEachLogits: position ${p} is outside row ${i} (${r.ids.length} tokens)`);
  });
  const order = rows.map((_, i) => i).sort((a, b) => rows[b].ids.length - rows[a].ids.length || a - b);
  let done = 0;
  for (let start = 0; start < order.length; start += B) {
    const batch = order.slice(start, start + B);
    const T = rows[batch[0]].ids.length;
    const ids = new Int32Array(batch.length * T).fill(opts.padId ?? 0);
    const flat: number[] = [];
    let tokens = 0;
    batch.forEach((r, b) => {
      ids.set(rows[r].ids, b * T);
      tokens += rows[r].ids.length;
      for (const p of rows[r].positions) flat.push(b * T + p);
    });
    const logits = noGrad(() =>
      scope(() => {
        const x = tensor(ids, [batch.length, T], 'int32', model.outputWeight.backend);
        return model.forward(x, { positions: flat }).logits.toArray() as Float32Array;
      }),
    );
    let n = 0;
    for (const r of batch) for (let k = 0; k < rows[r].positions.length; k++, n++) onLogits(r, k, logits.subarray(n * V, (n + 1) * V));
    done += batch.length;
    opts.onProgress?.(done, tokens);
  }
}

/** log softmax(logits)[id] in float64 (the host-side half of a log-likelihood). */
export function logSoftmaxAt(logits: Float32Array, ids: readonly number[]): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  return ids.map((id) => logits[id] - lse);
}
