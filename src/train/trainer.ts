// The supervised stages' part of the loop (pretrain, sft, lora, dpo, distill): a TrainTask (the
// trainable parameters, a function from a batch to a scalar loss, a way to save the model) made
// into a Stage for loop.ts, as MiniMind's train_epoch reads its data:
//   - batches in a seeded per-epoch order; each step reads accumulation_steps micro-batches (fewer
//     at the end of an epoch), loss / accumulation_steps, backward, then one update; the lr of
//     update k is the cosine lr of its last 1-based micro-step (as MiniMind), after v1's optional
//     linear warmup
//   - the held-out loss (token-weighted over up to evalBatches batches) is the stage's evaluation
//   - data parallel: each rank reads its shard of every global batch (data/shard.ts) and weights
//     its loss by its share of the batch, so the summed gradients are the update one process
//     would make. A checkpoint does not record the number of ranks.
// Everything else (resume, checkpoints, logging, guards, Ctrl-C) is the loop's.
import type { Tensor } from '../core/tensor.js';
import { noGrad } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import * as ops from '../ops/index.js';
import { cosineLr } from '../optim/index.js';
import { Batch, BatchPlan, readBatch } from '../data/batches.js';
import { readShard } from '../data/shard.js';
import { OpenedDataset } from '../data/datasets.js';
import { runLoop, type LoopConfig, type LoopSummary, type Stage } from './loop.js';

export interface TrainConfig extends LoopConfig {
  batchSize: number;
  accumulationSteps: number;
  warmupSteps?: number;
  /** Final lr as a fraction of lr (MiniMind: 0.1). */
  minLrRatio?: number;
  evalBatches?: number;
  /** Pad every batch to this length (MiniMind pads to max_length); default: the longest row. */
  padTo?: number;
  /** false: batches in file order every epoch (default: a seeded shuffle per epoch). */
  shuffle?: boolean;
}

export interface TrainTask {
  train: OpenedDataset;
  eval?: OpenedDataset | null;
  padId: number;
  /** Trainable parameters with stable names (checkpoint keys). */
  params: [string, Tensor][];
  /** Forward + loss of one batch, with autograd on. `logs` are extra numbers to record. */
  step(batch: Batch): { loss: Tensor; logs?: Record<string, number> };
  /** Loss of one held-out batch without gradients (defaults to step under noGrad). */
  evalStep?(batch: Batch): number;
  /** Writes the stage's deliverable (model folder or adapter) into an empty folder. */
  saveModel(dir: string): void | Promise<void>;
  /** Name of the deliverable folder in outDir ('model' or 'adapter'). */
  modelDirName?: string;
  /** Shown in report.html. */
  info?: Record<string, unknown>;
  /**
   * What step()'s loss is a mean over, so data-parallel ranks can weight their shards exactly:
   * 'targets' (token-mean cross-entropy) or 'examples' (default).
   */
  lossMean?: 'targets' | 'examples';
  /** Estimated bytes one forward of `rows` rows (at the longest length trained) keeps for its backward. */
  activationBytes?(rows: number): number;
}

export type TrainSummary = LoopSummary;

/** The Stage of a supervised task (see the header). */
export function supervisedStage(cfg: TrainConfig, task: TrainTask): Stage {
  const accum = Math.max(1, Math.floor(cfg.accumulationSteps));
  const group = task.train.group;
  const plan = new BatchPlan(task.train.size, { batchSize: cfg.batchSize, seed: cfg.seed, shuffle: cfg.shuffle });
  const bpe = plan.batchesPerEpoch;
  const optPerEpoch = Math.ceil(bpe / accum);
  // MiniMind sets the lr before every micro-batch from its 1-based micro-step over the run's
  // micro-steps, get_lr(epoch·iters + step, epochs·iters, lr); an update uses the value set before
  // its last micro-batch. So update k (1-based) ends at micro-step microEnd(k), and the schedule
  // spans microEnd(totalSteps) (= epochs·iters unless --max-steps cuts the run).
  const microEnd = (k: number) => Math.floor((k - 1) / optPerEpoch) * bpe + Math.min(bpe, (((k - 1) % optPerEpoch) + 1) * accum);
  const evalPlan = task.eval ? new BatchPlan(task.eval.size, { batchSize: cfg.batchSize, seed: cfg.seed, shuffle: false }) : null;
  return {
    groups: [{ prefix: '', params: task.params }],
    stepsPerEpoch: optPerEpoch,
    schedule: (totalSteps) => {
      const span = microEnd(totalSteps);
      const warmup = cfg.warmupSteps ?? 0;
      return (k) => (warmup > 0 && k <= warmup ? (cfg.lr * k) / warmup : cosineLr(microEnd(k), { lr: cfg.lr, totalSteps: span, minRatio: cfg.minLrRatio ?? 0.1 }));
    },
    lossesPerStep: accum,
    globalBatch: cfg.batchSize,
    activationBytes: task.activationBytes?.(cfg.batchSize * group),
    resumeKey: { batchSize: cfg.batchSize, accumulationSteps: accum, seed: cfg.seed, datasetSize: task.train.size, epochs: cfg.epochs },
    info: { examples: task.train.size, batch_size: cfg.batchSize, accumulation_steps: accum, ...task.info },
    modelDirName: task.modelDirName,
    saveModel: (dir) => task.saveModel(dir),
    step: async ({ epoch, inEpoch, dist: dp, addLoss, update }) => {
      const first = inEpoch * accum;
      const end = Math.min(bpe, first + accum);
      let tokens = 0;
      const logSums: Record<string, number> = {};
      for (let s = first; s < end; s++) {
        // this rank's part of the global batch and its share (1 for a single process)
        let batch: Batch;
        let weight = 1;
        if (dp) {
          const shard = readShard(task.train.samples, plan, epoch, s, task.padId, { group, padTo: cfg.padTo }, dp.rank, dp.worldSize);
          batch = shard.batch;
          weight = task.lossMean === 'targets' ? batch.targets / Math.max(shard.globalTargets, 1) : batch.B / group / shard.globalExamples;
          if (weight === 0) continue; // nothing of this batch here (gradients stay as they are)
        } else batch = readBatch(task.train.samples, plan, epoch, s, task.padId, { group, padTo: cfg.padTo });
        const logs = scope(() => {
          const { loss, logs } = task.step(batch);
          addLoss(loss, weight, s); // stays on the device; a non-finite one skips the update there
          const f = weight / accum;
          (f !== 1 ? ops.scale(loss, f) : loss).backward();
          return logs;
        });
        for (const [k, v] of Object.entries(logs ?? {})) logSums[k] = (logSums[k] ?? 0) + weight * v;
        tokens += batch.tokens;
      }
      await update();
      return { tokens, logs: logSums, divisor: end - first };
    },
    evaluate: task.eval && evalPlan
      ? () => {
          const n = Math.min(evalPlan.batchesPerEpoch, cfg.evalBatches ?? 20);
          let sum = 0;
          let weight = 0;
          for (let s = 0; s < n; s++) {
            const batch = readBatch(task.eval!.samples, evalPlan, 0, s, task.padId, { group: task.eval!.group, padTo: cfg.padTo });
            const l = scope(() => noGrad(() => (task.evalStep ? task.evalStep(batch) : task.step(batch).loss.item())));
            const w = Math.max(batch.targets, 1);
            sum += l * w;
            weight += w;
          }
          return { loss: sum / weight };
        }
      : undefined,
  };
}

/** Trains a supervised task in cfg.outDir (the caller has claimed the folder; runStage does both). */
export async function train(cfg: TrainConfig, task: TrainTask): Promise<TrainSummary> {
  return runLoop(cfg, supervisedStage(cfg, task));
}
