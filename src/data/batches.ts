// Batching: a seeded per-epoch shuffle cut into batches, and collation of samples into (B, T)
// Int32Array inputs + labels. Labels are the ids themselves with -100 wherever a token is not a
// target (prompt tokens, padding); the model shifts them internally (logits[:, :-1] vs
// labels[:, 1:]), so labels[:, 0] is never used. An epoch's order depends only on (seed, epoch),
// so a resumed run that skips the first `step` batches sees exactly the batches it would have.
import { mixSeed, permutation } from './rng.js';
import { SampleSource } from './token-cache.js';
import { EncodedSample } from './encode.js';
import { IGNORE_INDEX } from '../model/labels.js';

export { IGNORE_INDEX };

export interface Batch {
  /** (B, T) row-major. */
  inputIds: Int32Array;
  /** (B, T) row-major; -100 = not a target. */
  labels: Int32Array;
  B: number;
  T: number;
  /** Non-padding tokens in the batch (for tokens/s). */
  tokens: number;
  /** Positions whose label is a target after the shift (labels[:, 1:] != -100). */
  targets: number;
}

/**
 * Pads samples to T with padId and builds labels. T defaults to the longest sample; pass
 * maxLength to pad every batch to the same shape, as MiniMind does (same losses either way: the
 * padding sits after the real tokens and attention is causal).
 */
export function collate(samples: EncodedSample[], padId: number, T?: number): Batch {
  const B = samples.length;
  const width = T ?? Math.max(...samples.map((s) => s.ids.length));
  const inputIds = new Int32Array(B * width).fill(padId);
  const labels = new Int32Array(B * width).fill(IGNORE_INDEX);
  let tokens = 0;
  let targets = 0;
  for (let b = 0; b < B; b++) {
    const { ids, mask } = samples[b];
    const n = Math.min(ids.length, width);
    tokens += n;
    for (let t = 0; t < n; t++) {
      inputIds[b * width + t] = ids[t];
      if (mask === null || mask[t]) {
        labels[b * width + t] = ids[t];
        if (t > 0) targets++;
      }
    }
  }
  return { inputIds, labels, B, T: width, tokens, targets };
}

export interface BatchPlanOptions {
  batchSize: number;
  seed: number;
  shuffle?: boolean;
  /** Drop a last partial batch (PyTorch DataLoader default: keep it). */
  dropLast?: boolean;
}

/** Which examples go in each batch of each epoch. */
export class BatchPlan {
  readonly batchesPerEpoch: number;
  private cachedEpoch = -1;
  private order: Uint32Array | null = null;

  constructor(readonly size: number, readonly options: BatchPlanOptions) {
    if (size <= 0) throw new Error('empty dataset: nothing to batch');
    if (!(options.batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${options.batchSize}`);
    this.batchesPerEpoch = options.dropLast ? Math.floor(size / options.batchSize) : Math.ceil(size / options.batchSize);
    if (this.batchesPerEpoch === 0) throw new Error(`dataset of ${size} examples is smaller than one batch of ${options.batchSize} (with dropLast)`);
  }

  /** The example order of one epoch: seeded by (seed, epoch), or 0..n-1 without shuffling. */
  epochOrder(epoch: number): Uint32Array {
    if (this.cachedEpoch !== epoch || this.order === null) {
      if (this.options.shuffle === false) {
        this.order = new Uint32Array(this.size);
        for (let i = 0; i < this.size; i++) this.order[i] = i;
      } else this.order = permutation(this.size, mixSeed(this.options.seed, epoch));
      this.cachedEpoch = epoch;
    }
    return this.order;
  }

  /** Example indices of batch `step` (0-based) of `epoch`. */
  batchIndices(epoch: number, step: number): Uint32Array {
    if (step < 0 || step >= this.batchesPerEpoch) throw new RangeError(`step ${step} out of range [0, ${this.batchesPerEpoch})`);
    const order = this.epochOrder(epoch);
    const a = step * this.options.batchSize;
    return order.slice(a, Math.min(a + this.options.batchSize, this.size));
  }
}

/**
 * Reads batch (epoch, step). For grouped datasets (DPO: group 2) each example contributes
 * `group` consecutive samples and the batch holds all first members, then all second members
 * (chosen rows 0..B-1, rejected rows B..2B-1, as MiniMind HEAD concatenates them).
 */
export function readBatch(source: SampleSource, plan: BatchPlan, epoch: number, step: number, padId: number, opts: { group?: number; padTo?: number } = {}): Batch {
  const group = opts.group ?? 1;
  const idx = plan.batchIndices(epoch, step);
  const samples: EncodedSample[] = [];
  for (let g = 0; g < group; g++) for (const i of idx) samples.push(source.get(i * group + g));
  return collate(samples, padId, opts.padTo);
}
