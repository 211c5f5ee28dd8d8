// Data-parallel batches: rank r of W reads examples [⌊r·n/W⌋, ⌊(r+1)·n/W⌋) of each global batch
// of n examples. The W shards together are exactly the batch one process reads (same seeded
// order, same batch boundaries), so the global batch and the data order do not depend on the
// number of ranks, and a run can resume with another number of ranks.
import { collate, type Batch, type BatchPlan } from './batches.js';
import type { SampleSource } from './token-cache.js';
import type { EncodedSample } from './encode.js';

export interface Shard {
  /** This rank's rows (B may be 0 when the global batch has fewer examples than ranks). */
  batch: Batch;
  /** Target positions in the whole global batch (the denominator of a token-mean loss). */
  globalTargets: number;
  /** Examples in the whole global batch. */
  globalExamples: number;
}

/** Target positions a sample contributes (as collate counts them: after the shift, within padTo). */
function targetsOf(s: EncodedSample, padTo?: number): number {
  const n = padTo === undefined ? s.ids.length : Math.min(s.ids.length, padTo);
  if (s.mask === null) return Math.max(n - 1, 0);
  let c = 0;
  for (let t = 1; t < n; t++) if (s.mask[t]) c++;
  return c;
}

export function readShard(source: SampleSource, plan: BatchPlan, epoch: number, step: number, padId: number, opts: { group?: number; padTo?: number }, rank: number, worldSize: number): Shard {
  const group = opts.group ?? 1;
  const idx = plan.batchIndices(epoch, step);
  const n = idx.length;
  const lo = Math.floor((rank * n) / worldSize);
  const hi = Math.floor(((rank + 1) * n) / worldSize);
  let globalTargets = 0;
  const mine: EncodedSample[] = [];
  // grouped data (DPO): all first members, then all second members, as readBatch lays them out
  for (let g = 0; g < group; g++) {
    for (let j = 0; j < n; j++) {
      const s = source.get(idx[j] * group + g);
      globalTargets += targetsOf(s, opts.padTo);
      if (j >= lo && j < hi) mine.push(s);
    }
  }
  const batch = mine.length ? collate(mine, padId, opts.padTo) : { inputIds: new Int32Array(0), labels: new Int32Array(0), B: 0, T: 0, tokens: 0, targets: 0 };
  return { batch, globalTargets, globalExamples: n };
}
