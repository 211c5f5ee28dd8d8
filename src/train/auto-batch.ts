// --batch-size auto: the largest micro-batch that fits the GPU, with gradient accumulation keeping
// the global batch (MiniMind's batch_size x accumulation_steps). Each candidate micro-batch, from the
// whole global batch down through its divisors, runs one forward + backward on rows of the longest
// length the run can see, with the optimizer's state reserved beside it, under 90 % of the memory
// cap (a margin for what one probe does not show: other lengths, MoE routing, the optimizer step's
// scratch). The first that does not run out of memory is the run's micro-batch.
import { scope } from '../core/scope.js';
import { zeros, type Tensor } from '../core/tensor.js';
import { isOutOfMemory, UserError } from '../core/errors.js';
import { collate, type Batch } from '../data/batches.js';
import type { CudaBackend } from '../backends/cuda/index.js';
import type { TrainTask } from './trainer.js';

/** The share of the cap a probe may use. */
export const PROBE_HEADROOM = 0.9;

/** Divisors of n, largest first: the micro-batches that split a global batch evenly. */
export function microBatchCandidates(n: number): number[] {
  const out: number[] = [];
  for (let m = n; m >= 1; m--) if (n % m === 0) out.push(m);
  return out;
}

/** The first candidate for which fits() does not run out of memory (fits() throws as the allocator does). */
export function largestFit(candidates: readonly number[], fits: (micro: number) => void): number | null {
  for (const m of candidates) {
    try {
      fits(m);
      return m;
    } catch (e) {
      if (!isOutOfMemory(e)) throw e;
    }
  }
  return null;
}

/** `micro` examples of the training data (cycled when it has fewer), each padded to `length`. */
function probeBatch(task: TrainTask, micro: number, length: number): Batch {
  const { samples, group, size } = task.train;
  const picked = [];
  for (let i = 0; i < micro; i++) for (let g = 0; g < group; g++) picked.push(samples.get((i % size) * group + g));
  return collate(picked, task.padId, Math.max(length, ...picked.map((s) => s.ids.length)));
}

/**
 * Chooses the micro-batch for a global batch on the CUDA backend `gpu`, whose allocator is capped
 * at `limit` bytes (0: the whole card). Returns { batchSize, accumulationSteps } with
 * batchSize * accumulationSteps = global.
 */
export function autoBatch(gpu: CudaBackend, task: TrainTask, global: number, length: number, limit: number): { batchSize: number; accumulationSteps: number } {
  const capBytes = limit || gpu.totalMemory;
  const params = task.params.map(([, t]) => t);
  const stateFloats = 2 * params.reduce((s, t) => s + t.size, 0); // AdamW's m and v, made at the first step
  gpu.setMemoryLimit(Math.floor(capBytes * PROBE_HEADROOM));
  try {
    const micro = largestFit(microBatchCandidates(global), (m) => {
      const batch = probeBatch(task, m, length);
      let state: Tensor | null = null;
      try {
        scope(() => {
          state = zeros([stateFloats], 'float32', gpu).keep();
          task.step(batch).loss.backward();
        });
      } finally {
        (state as Tensor | null)?.dispose();
        for (const p of params) p.zeroGrad();
      }
    });
    if (micro === null) throw new UserError(`--batch-size auto: not even one example of ${length} tokens trains within ${Math.round(capBytes / 2 ** 20)} MiB of GPU memory; use --gradient-checkpointing, a smaller --max-seq-len, or a larger --max-gpu-memory`);
    return { batchSize: micro, accumulationSteps: global / micro };
  } finally {
    gpu.setMemoryLimit(limit);
  }
}
