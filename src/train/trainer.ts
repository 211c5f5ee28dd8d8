// The training loop every stage shares (pretrain, sft, lora, dpo, distill). A stage supplies the
// trainable parameters, a function from a batch to a scalar loss, and a way to save its model;
// the loop does the rest, as MiniMind's train_epoch does:
//   - batches in a seeded per-epoch order; loss / accumulation_steps, backward; every
//     accumulation_steps micro-batches (and at the end of an epoch) clip the global gradient norm,
//     AdamW step at the cosine lr of the update's last 1-based micro-step (as MiniMind), zero the
//     gradients
//   - log every log_interval optimizer steps (metrics.jsonl, report.html, cfg.onProgress)
//   - held-out loss every eval_interval steps when there is held-out data
//   - every save_interval steps and at the end: an atomic checkpoint (weights + AdamW moments +
//     counters) and the model folder; --resume continues from the latest checkpoint and sees
//     exactly the batches the uninterrupted run would have seen, so the losses match.
//   - aborting cfg.signal (the CLI does on Ctrl-C) stops after the current step with a checkpoint;
//     the summary says so (interrupted, checkpointDir). The library never installs signal
//     handlers nor exits the process.
//   - data parallel (cfg.dist, set by runInFolder under `minimind launch`): each rank reads its
//     shard of every global batch (data/shard.ts), weights its loss by its share of the batch,
//     and the gradients are summed across ranks before clipping, so W ranks compute the update one
//     process would; the step's loss, token count and Ctrl-C are agreed by all ranks; rank 0 alone
//     logs, evaluates and writes checkpoints. A checkpoint does not record the number of ranks.
//   - non-finite losses, gradients (before the optimizer step) and weights (before any save) stop
//     the run with a UserError naming the step; the last good checkpoint stays in place.
//   - nothing inside a step is read to the host (train/step-stats.ts): losses and Σg² stay on the
//     device, the optimizer step is skipped there when one is not finite (AdamW.step(guard)), and
//     the host reads them every `hostReadInterval` steps (default: every step on CPU backends,
//     where a read is free, else the log interval) and before every log line, checkpoint and the
//     end. A bad step found at a read stops the run then, naming that step; the weights are those
//     from before it (every later step was skipped too), and nothing was saved after it.
//     Progress callbacks for the steps since the last read run at the read.
import { mkdirSync, readFileSync, writeFileSync } from '../io/fs.js';
import { join } from '../io/path.js';
import { empty, type Tensor } from '../core/tensor.js';
import { noGrad } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import * as ops from '../ops/index.js';
import { AdamW, clipGradNormSq_, gradSumSq, cosineLr } from '../optim/index.js';
import { Batch, BatchPlan, readBatch } from '../data/batches.js';
import { readShard } from '../data/shard.js';
import type { DataParallel } from '../dist/data-parallel.js';
import { OpenedDataset } from '../data/datasets.js';
import { readSafetensors, writeSafetensors, HostTensor } from '../formats/safetensors.js';
import { latestCheckpointDir, saveCheckpointDir, writeFolderAtomic } from './atomic.js';
import { MetricsWriter, MetricRecord } from './metrics.js';
import { writeReport } from './report.js';
import { UserError } from '../core/errors.js';
import { checkFitsInMemory } from '../core/memory.js';
import { fb } from '../ops/util.js';
import type { StepReport } from './options.js';
import { DeviceStepStats } from './step-stats.js';

export interface TrainConfig {
  stage: string;
  /** Run folder: checkpoints/, model/ (or adapter/), metrics.jsonl, report.html, cache/. */
  outDir: string;
  epochs: number;
  batchSize: number;
  accumulationSteps: number;
  lr: number;
  warmupSteps?: number;
  /** Final lr as a fraction of lr (MiniMind: 0.1). */
  minLrRatio?: number;
  weightDecay?: number;
  /** Global gradient-norm clip; 0 disables. */
  gradClip: number;
  logInterval: number;
  saveInterval: number;
  /** Held-out loss every N optimizer steps (0: only at the end). */
  evalInterval?: number;
  evalBatches?: number;
  seed: number;
  resume?: boolean;
  /** Cap on optimizer steps (shortens the run and its lr schedule). */
  maxSteps?: number;
  /** Stop (and checkpoint) after this many optimizer steps, as if interrupted. For tests and time limits. */
  stopAfterSteps?: number;
  /** Pad every batch to this length (MiniMind pads to max_length); default: the longest row. */
  padTo?: number;
  /** false: batches in file order every epoch (default: a seeded shuffle per epoch). */
  shuffle?: boolean;
  keepCheckpoints?: number;
  /** Replace an earlier run in outDir (checked by claimRunFolder; recorded here for the report). */
  overwrite?: boolean;
  /** Called after every optimizer step. */
  onProgress?: (report: StepReport) => void;
  /** Called after each checkpoint and model folder are written (the run folder then lets an overwritten earlier run go). */
  onCheckpoint?: (checkpointDir: string) => void;
  /** One-line messages (resuming, stopping). */
  log?: (message: string) => void;
  /** Aborting stops after the current step, with a checkpoint. */
  signal?: AbortSignal;
  /** Data-parallel ranks (see the header); absent for a single process. */
  dist?: DataParallel;
  /**
   * Read the steps' losses and gradient norms to the host every N optimizer steps (and at every
   * log, checkpoint and the end). Default: 1 on CPU backends, logInterval on GPUs; data-parallel
   * runs read every step (the ranks agree on the loss each step).
   */
  hostReadInterval?: number;
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
}

export interface TrainSummary {
  steps: number;
  losses: number[];
  finalLoss: number;
  evalLoss: number | null;
  seconds: number;
  tokens: number;
  /** Stopped before the last step (stopAfterSteps or an abort); `resume` continues. */
  stoppedEarly: boolean;
  /** Stopped because the signal was aborted. */
  interrupted: boolean;
  /** The newest checkpoint of the run. */
  checkpointDir: string | null;
  modelDir: string;
}

interface TrainerState {
  stage: string;
  micro: number;
  optStep: number;
  totalSteps: number;
  batchSize: number;
  accumulationSteps: number;
  seed: number;
  datasetSize: number;
  epochs: number;
  losses: number[];
  /** AdamW's step count (bias correction). */
  adamStep: number;
}

/** Σx² over tensors, on their backend, with one host read (Infinity or NaN when any value is). */
function sumOfSquares(ts: readonly Tensor[]): number {
  if (ts.length === 0) return 0;
  const acc = empty([1], ts[0].dtype, ts[0].backend);
  ts.forEach((t, i) => t.backend.sumSquares(fb(acc), fb(t), t.size, i > 0));
  const v = acc.item();
  acc.dispose();
  return v;
}

function hostOf(t: Tensor): Float32Array {
  const a = t.toArray();
  return a instanceof Float32Array ? Float32Array.from(a) : Float32Array.from(a as ArrayLike<number>);
}

export async function train(cfg: TrainConfig, task: TrainTask): Promise<TrainSummary> {
  const t0 = Date.now();
  mkdirSync(cfg.outDir, { recursive: true });
  const dp = cfg.dist;
  const lead = !dp || dp.rank === 0; // logs, evaluates, checkpoints
  const say = (m: string) => lead && cfg.log?.(m);
  const accum = Math.max(1, Math.floor(cfg.accumulationSteps));
  const group = task.train.group;
  const plan = new BatchPlan(task.train.size, { batchSize: cfg.batchSize, seed: cfg.seed, shuffle: cfg.shuffle });
  const bpe = plan.batchesPerEpoch;
  const optPerEpoch = Math.ceil(bpe / accum);
  let totalSteps = cfg.epochs * optPerEpoch;
  if (cfg.maxSteps !== undefined && cfg.maxSteps > 0) totalSteps = Math.min(totalSteps, cfg.maxSteps);
  // MiniMind sets the lr before every micro-batch from its 1-based micro-step over the run's
  // micro-steps, get_lr(epoch·iters + step, epochs·iters, lr); an update uses the value set before
  // its last micro-batch. So optimizer step k (1-based) ends at micro-step microEnd(k), and the
  // schedule spans microEnd(totalSteps) (= epochs·iters unless --max-steps cuts the run).
  const microEnd = (k: number) => Math.floor((k - 1) / optPerEpoch) * bpe + Math.min(bpe, (((k - 1) % optPerEpoch) + 1) * accum);
  const scheduleSpan = microEnd(totalSteps);
  const lrAt = (k: number) => {
    const warmup = cfg.warmupSteps ?? 0;
    if (warmup > 0 && k <= warmup) return (cfg.lr * k) / warmup; // v1's linear warmup, per update
    return cosineLr(microEnd(k), { lr: cfg.lr, totalSteps: scheduleSpan, minRatio: cfg.minLrRatio ?? 0.1 });
  };
  if (totalSteps <= 0) throw new UserError('nothing to train: 0 optimizer steps (check --epochs and --max-steps)');
  const params = task.params.map(([, t]) => t);
  if (params.length > 0 && params[0].backend.device !== 'cuda') {
    // Host training adds a gradient and AdamW's two moments (fp32) per trained weight: refuse
    // now a model this machine cannot train, rather than be killed mid-run.
    const n = params.reduce((s, t) => s + t.size, 0);
    checkFitsInMemory(12 * n, `training ${n} parameters (their gradients and AdamW moments)`, 'train a smaller model, or on a GPU (--device cuda)');
  }
  const optimizer = new AdamW(params, { lr: cfg.lr, weightDecay: cfg.weightDecay ?? 0.01 });
  const ckptRoot = join(cfg.outDir, 'checkpoints');
  const modelDir = join(cfg.outDir, task.modelDirName ?? 'model');
  let micro = 0;
  let optStep = 0;
  let losses: number[] = [];
  let checkpointDir: string | null = null;

  if (cfg.resume) {
    const dir = latestCheckpointDir(ckptRoot, say);
    if (dir === null) throw new UserError(`--resume: no complete checkpoint in ${ckptRoot}; start a new run without --resume`);
    const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as TrainerState;
    const want: Partial<TrainerState> = { stage: cfg.stage, batchSize: cfg.batchSize, accumulationSteps: accum, seed: cfg.seed, datasetSize: task.train.size, epochs: cfg.epochs, totalSteps };
    for (const [k, v] of Object.entries(want)) {
      if ((state as unknown as Record<string, unknown>)[k] !== v) {
        throw new UserError(`--resume: the checkpoint in ${dir} was made with ${k}=${JSON.stringify((state as unknown as Record<string, unknown>)[k])}, this run has ${k}=${JSON.stringify(v)}; use the same settings to continue it exactly`);
      }
    }
    const { tensors } = readSafetensors(join(dir, 'state.safetensors'));
    const values = (prefix: string) =>
      task.params.map(([name, t]) => {
        const h = tensors.get(prefix + name);
        if (!h) throw new UserError(`--resume: ${dir} has no tensor '${prefix + name}'`);
        if (h.data.length !== t.size) throw new UserError(`--resume: '${prefix + name}' has ${h.data.length} values, the model has ${t.size}`);
        return h.data as Float32Array;
      });
    const weights = values('');
    task.params.forEach(([, t], i) => {
      const up = t.backend.upload(t.dtype === 'float64' ? Float64Array.from(weights[i]) : weights[i]);
      t.backend.copy(t.buf, up, t.size);
      t.backend.free(up);
    });
    optimizer.loadStateDict({ step: state.adamStep, m: values('optimizer.m.'), v: values('optimizer.v.') });
    micro = state.micro;
    optStep = state.optStep;
    losses = state.losses.slice(0, optStep);
    checkpointDir = dir;
    say(`resuming ${cfg.stage} from ${dir}: step ${optStep}/${totalSteps}, epoch ${Math.floor(micro / bpe) + 1}/${cfg.epochs}`);
  }

  if (dp) {
    if (cfg.batchSize < dp.worldSize) throw new UserError(`--batch-size ${cfg.batchSize} is the global batch; it must be at least the number of ranks (${dp.worldSize}) so every rank gets examples`);
    // every rank built the same model from the same seed or checkpoint; rank 0's weights are
    // sent to all anyway (as DDP does), so nothing can make the replicas differ
    await dp.broadcastParameters(params);
    say(`data parallel: ${dp.worldSize} ranks (${dp.transport}), global batch ${cfg.batchSize}`);
  }
  const metrics = lead ? new MetricsWriter(join(cfg.outDir, 'metrics.jsonl'), cfg.resume ? optStep : undefined) : null;
  const info = {
    stage: cfg.stage,
    examples: task.train.size,
    epochs: cfg.epochs,
    batch_size: cfg.batchSize,
    accumulation_steps: accum,
    learning_rate: cfg.lr,
    optimizer_steps: totalSteps,
    trainable_parameters: params.reduce((s, p) => s + p.size, 0),
    ...task.info,
  };
  const report = () => metrics && writeReport(cfg.outDir, `MiniMind ${cfg.stage}`, metrics.records, info);

  const saveAll = async () => {
    // Never save what cannot be trained on: a non-finite weight would poison every later run.
    const bad = Number.isFinite(sumOfSquares(params)) ? undefined : task.params.find(([, t]) => !Number.isFinite(sumOfSquares([t])));
    if (bad) throw new UserError(`${cfg.stage}: weight '${bad[0]}' is not finite after step ${optStep}; nothing was saved (the last good checkpoint${checkpointDir ? `, ${checkpointDir},` : ''} is kept). Lower --learning-rate or check the data`);
    const state: TrainerState = {
      stage: cfg.stage,
      micro,
      optStep,
      totalSteps,
      batchSize: cfg.batchSize,
      accumulationSteps: accum,
      seed: cfg.seed,
      datasetSize: task.train.size,
      epochs: cfg.epochs,
      losses,
      adamStep: optimizer.stepCount,
    };
    checkpointDir = await saveCheckpointDir(
      ckptRoot,
      optStep,
      (dir) => {
        const st = optimizer.stateDict();
        const tensors: Record<string, HostTensor> = {};
        task.params.forEach(([name, t], i) => {
          const shape = [...t.shape];
          tensors[name] = { dtype: 'F32', shape, data: hostOf(t) };
          tensors['optimizer.m.' + name] = { dtype: 'F32', shape, data: st.m[i] };
          tensors['optimizer.v.' + name] = { dtype: 'F32', shape, data: st.v[i] };
        });
        writeSafetensors(join(dir, 'state.safetensors'), tensors, { format: 'pt', stage: cfg.stage });
        writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
      },
      cfg.keepCheckpoints ?? 2,
    );
    await writeFolderAtomic(modelDir, (d) => task.saveModel(d));
    cfg.onCheckpoint?.(checkpointDir!);
  };

  const evalPlan = task.eval ? new BatchPlan(task.eval.size, { batchSize: cfg.batchSize, seed: cfg.seed, shuffle: false }) : null;
  const runEval = (): number | null => {
    if (!task.eval || !evalPlan) return null;
    const n = Math.min(evalPlan.batchesPerEpoch, cfg.evalBatches ?? 20);
    let sum = 0;
    let weight = 0;
    for (let s = 0; s < n; s++) {
      const batch = readBatch(task.eval.samples, evalPlan, 0, s, task.padId, { group: task.eval.group, padTo: cfg.padTo });
      const l = scope(() => noGrad(() => (task.evalStep ? task.evalStep(batch) : task.step(batch).loss.item())));
      const w = Math.max(batch.targets, 1);
      sum += l * w;
      weight += w;
    }
    return sum / weight;
  };

  let tokens = 0;
  let lastEval: number | null = null;
  let stoppedEarly = false;
  let interrupted = false;
  let stepsThisRun = 0;
  let windowTokens = 0;
  let windowStart = Date.now();

  // What the host keeps about each step until its loss is read from the device (see the header).
  interface StepInfo {
    step: number;
    epoch: number;
    lr: number;
    micro: number;
    tokens: number;
    logs: Record<string, number>;
    evalLoss: number | null;
    /** The step's loss summed over the ranks (data parallel), else from its micro-batches. */
    lossSum?: number;
    /** A log line: what it says besides the loss and gradient norm. */
    line?: { tokensPerS: number; elapsed: number; evalLoss?: number };
    /** An eval line on a step that does not log. */
    evalLine?: number;
  }
  const readEvery = Math.max(1, Math.floor(dp ? 1 : cfg.hostReadInterval ?? (params[0].backend.device === 'cpu' ? 1 : cfg.logInterval)));
  const stats = new DeviceStepStats<StepInfo, { weight: number; batch: number }>(params[0].backend, readEvery * (accum + 1));
  // Reads every step since the last read and does what waited for its loss; stops at the first
  // non-finite one (the device skipped it and every later one, so the weights are from before it).
  const readSteps = (): void => {
    const steps = stats.read();
    steps.forEach((st, k) => {
      const { info } = st;
      const later = steps.length - 1 - k;
      const notTaken = `the step was not taken${later > 0 ? ` (nor the ${later} after it, before this check)` : ''}`;
      const lastGood = checkpointDir ? ` (last good checkpoint: ${checkpointDir})` : '';
      const hint = `lower --learning-rate or check the data${lastGood}`;
      const badMicro = st.micro.find((m) => !Number.isFinite(m.loss));
      if (badMicro) throw new UserError(`${cfg.stage}: loss is ${badMicro.loss} at step ${info.step} (epoch ${info.epoch}, batch ${badMicro.info.batch + 1})${dp ? ` on rank ${dp.rank}` : ''}; ${notTaken}; ${hint}`);
      const loss = (info.lossSum ?? st.micro.reduce((sum, m) => sum + m.info.weight * m.loss, 0)) / info.micro;
      if (!Number.isFinite(loss)) throw new UserError(`${cfg.stage}: loss is ${loss} at step ${info.step} (epoch ${info.epoch}); ${notTaken}; ${hint}`);
      const gradNorm = Math.sqrt(st.gradSq);
      if (!Number.isFinite(gradNorm)) throw new UserError(`${cfg.stage}: the gradient norm is ${gradNorm} at step ${info.step}; ${notTaken}. Lower --learning-rate or check the data${lastGood}`);
      losses.push(loss);
      if (info.line) {
        const rec: MetricRecord = { step: info.step, epoch: info.epoch, loss, lr: info.lr, ...info.logs, tokens_per_s: info.line.tokensPerS, elapsed_s: info.line.elapsed, grad_norm: gradNorm };
        if (info.line.evalLoss !== undefined) rec.eval_loss = info.line.evalLoss;
        metrics?.write(rec);
        report();
      } else if (info.evalLine !== undefined) metrics?.write({ step: info.step, eval_loss: info.evalLine });
      if (lead) cfg.onProgress?.({ stage: cfg.stage, step: info.step, totalSteps, epoch: info.epoch, loss, lr: info.lr, tokens: info.tokens, evalLoss: info.evalLoss, logs: info.logs });
    });
  };
  try {
    while (optStep < totalSteps) {
      const epoch = Math.floor(micro / bpe);
      const first = micro % bpe;
      const end = Math.min(bpe, (Math.floor(first / accum) + 1) * accum);
      let stepTokens = 0;
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
          stats.addLoss(loss, { weight, batch: s }); // stays on the device; a non-finite one skips the update there
          const f = weight / accum;
          const scaled = f !== 1 ? ops.scale(loss, f) : loss;
          scaled.backward();
          return logs;
        });
        for (const [k, v] of Object.entries(logs ?? {})) logSums[k] = (logSums[k] ?? 0) + weight * v;
        stepTokens += batch.tokens;
      }
      let stopRequested = !!cfg.signal?.aborted;
      let lossSum: number | undefined;
      if (dp) {
        // Σ over ranks of the weighted gradients = the global batch's gradient; the loss, the
        // tokens and a Ctrl-C on any rank are summed too, so every rank takes the same decisions.
        await dp.reduceGradients(params);
        const keys = Object.keys(logSums).sort();
        const local = stats.currentLosses().reduce((sum, m) => sum + m.info.weight * m.loss, 0);
        const v = await dp.allReduce(Float64Array.from([local, stepTokens, stopRequested ? 1 : 0, ...keys.map((k) => logSums[k])]));
        lossSum = v[0];
        stepTokens = v[1];
        stopRequested = v[2] > 0;
        keys.forEach((k, i) => (logSums[k] = v[3 + i]));
      }
      tokens += stepTokens;
      windowTokens += stepTokens;
      const n = end - first;
      micro = epoch * bpe + end;
      const lr = lrAt(optStep + 1);
      optimizer.lr = lr;
      // Σg² (before clipping) on the device; a non-finite one (or loss) makes the guard skip the
      // optimizer step there. Checked on Σg² itself: clipping's device-side sqrt can saturate.
      const gradSq = cfg.gradClip > 0 ? clipGradNormSq_(params, cfg.gradClip) : gradSumSq(params);
      const logs: Record<string, number> = {};
      for (const [k, v] of Object.entries(logSums)) logs[k] = v / n;
      const info: StepInfo = { step: optStep + 1, epoch: epoch + 1, lr, micro: n, tokens: stepTokens, logs, evalLoss: null, lossSum };
      stats.endStep(gradSq, info);
      gradSq.dispose();
      optimizer.step(stats.guard);
      optimizer.zeroGrad();
      optStep++;
      stepsThisRun++;
      const last = optStep === totalSteps;
      if (lead && cfg.evalInterval && optStep % cfg.evalInterval === 0 && !last) lastEval = runEval();
      if (lead && last) lastEval = runEval();
      info.evalLoss = lastEval;
      const logStep = optStep % cfg.logInterval === 0 || last || optStep === 1;
      if (!lead) {
        /* rank 0 logs */
      } else if (logStep) {
        const secs = (Date.now() - windowStart) / 1000;
        info.line = { tokensPerS: Math.round(windowTokens / Math.max(secs, 1e-9)), elapsed: Math.round((Date.now() - t0) / 100) / 10 };
        if (lastEval !== null && (last || (cfg.evalInterval && optStep % cfg.evalInterval === 0))) info.line.evalLoss = lastEval;
        windowTokens = 0;
        windowStart = Date.now();
      } else if (lastEval !== null && cfg.evalInterval && optStep % cfg.evalInterval === 0) {
        info.evalLine = lastEval;
      }
      interrupted = !last && stopRequested;
      const stopNow = interrupted || (cfg.stopAfterSteps !== undefined && stepsThisRun >= cfg.stopAfterSteps && !last);
      const saveStep = optStep % cfg.saveInterval === 0 || last || stopNow;
      // the host reads here: every readEvery steps, and before a log line, a checkpoint or the end
      if (logStep || saveStep || stats.size >= readEvery || !stats.fits(accum)) readSteps();
      if (lead && saveStep) await saveAll();
      if (stopNow) {
        stoppedEarly = true;
        say(`stopped at step ${optStep}/${totalSteps}; checkpoint ${checkpointDir}; continue with --resume`);
        break;
      }
      await new Promise((r) => setImmediate(r)); // lets an abort (Ctrl-C in the CLI) be noticed
    }
  } finally {
    report();
    optimizer.dispose();
    stats.dispose();
  }
  return { steps: optStep, losses, finalLoss: losses[losses.length - 1] ?? NaN, evalLoss: lastEval, seconds: (Date.now() - t0) / 1000, tokens, stoppedEarly, interrupted, checkpointDir, modelDir };
}
