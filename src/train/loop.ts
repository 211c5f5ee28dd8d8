// The one step loop every training stage runs in (pretrain, sft, lora, dpo, distill through
// trainer.ts; grpo, ppo, agent through rl/stage.ts). A stage says what one step does (read its
// micro-batches, or roll out and score prompts) and calls update() once (supervised, GRPO) or
// several times (PPO's minibatches); the loop does everything around it, as MiniMind's
// train_epoch does:
//   - the steps of the run: epochs × the stage's steps per epoch, capped by maxSteps; each step's
//     sampling seed depends only on (seed, step), so --resume sees what the uninterrupted run saw
//   - update(): gradients summed over data-parallel ranks, the scheduled lr (the stage's
//     schedule, by the run's update count, which the optimizer's step count keeps across a
//     resume), the global gradient norm clipped per parameter group, AdamW, zeroed gradients
//   - log every logInterval steps (run-log.ts: metrics.jsonl, report.html, onProgress), the
//     stage's evaluation every evalInterval steps and at the end
//   - every saveInterval steps and at the end: a checkpoint and the model folder (checkpoint.ts);
//     --resume continues from the newest complete checkpoint exactly
//   - aborting cfg.signal (the CLI does on Ctrl-C) stops after the current step with a
//     checkpoint; the summary says so. The library never installs signal handlers nor exits.
//   - data parallel (cfg.dist, set by runStage under `minimind launch`): rank 0's weights are
//     broadcast at the start, each rank's stage computes gradients on its part of the global batch,
//     update() sums them, the step's loss, tokens, logs and Ctrl-C are summed across ranks, and
//     rank 0 alone logs, evaluates and writes checkpoints.
//   - non-finite losses, gradients (before the optimizer step) and weights (before any save) stop
//     the run with a UserError naming the step; the last good checkpoint stays in place.
//   - the loop itself reads nothing to the host inside a step (step-stats.ts): the losses a stage
//     records and every update's Σg² stay on the device, the optimizer step is skipped there when
//     one is not finite (AdamW.step(guard)), and the host reads them every hostReadInterval steps
//     (default: every step on CPU backends, where a read is free, else the log interval) and before
//     every log line, checkpoint and the end. A bad step found at a read stops the run then, naming
//     that step; the weights are those from before it. (What a stage reads itself is its own:
//     an MoE step's ce/aux logs, RL's host-side losses.)
import { join } from '../io/path.js';
import { mkdirSync } from '../io/fs.js';
import type { Tensor } from '../core/tensor.js';
import { UserError } from '../core/errors.js';
import { getBackend } from '../core/device.js';
import { checkFitsInMemory, formatBytes } from '../core/memory.js';
import { AdamW, clipGradNormSq_, gradSumSq } from '../optim/index.js';
import type { DataParallel } from '../dist/data-parallel.js';
import { dataParallel } from '../dist/data-parallel.js';
import { distEnv, ProcessGroup } from '../dist/group.js';
import { loadCheckpoint, publishModel, saveCheckpoint, latestCheckpointDir, type CheckpointGroup } from './checkpoint.js';
import { RunLog, type MetricRecord, type StepReport } from './run-log.js';
import { claimRunFolder } from './run-folder.js';
import { DeviceStepStats } from './step-stats.js';

/** Tensors trained by one AdamW with its own peak lr (PPO's critic beside the policy). */
export interface ParamGroup {
  /** Prefix of this group's names in checkpoints ('' for the model, 'critic.' for PPO's critic). */
  prefix: string;
  params: [string, Tensor][];
  /** Peak learning rate, scaled by the schedule as the model's is; default cfg.lr. */
  lr?: number;
}

export interface LoopConfig {
  stage: string;
  /** Run folder: checkpoints/, model/ (or adapter/), metrics.jsonl, report.html. */
  outDir: string;
  epochs: number;
  /** Cap on steps (shortens the run and its schedule). */
  maxSteps?: number;
  /** Peak learning rate of the first parameter group. */
  lr: number;
  weightDecay?: number;
  /** Global gradient-norm clip per parameter group; 0 disables. */
  gradClip: number;
  logInterval: number;
  saveInterval: number;
  /** The stage's evaluation every N steps (0: only at the end); only for a stage with one. */
  evalInterval?: number;
  seed: number;
  resume?: boolean;
  /** Replace an earlier run in outDir (checked by claimRunFolder; recorded here for the report). */
  overwrite?: boolean;
  /** Stop (and checkpoint) after this many steps of this call, as if interrupted. For tests and time limits. */
  stopAfterSteps?: number;
  keepCheckpoints?: number;
  /** Called after every step. */
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
   * Read the steps' losses and gradient norms to the host every N steps (and at every log,
   * checkpoint and the end). Default: 1 on CPU backends, logInterval on GPUs; data-parallel runs
   * read every step (the ranks agree on the loss each step).
   */
  hostReadInterval?: number;
}

/** What a stage gives the loop. */
export interface Stage {
  /** Parameter groups, each with its own AdamW; the model's first (its lr is the one logged). */
  groups: ParamGroup[];
  stepsPerEpoch: number;
  /** The lr schedule of a run of `totalSteps` steps: the lr of its update-th optimizer update (1-based). */
  schedule(totalSteps: number): (update: number) => number;
  /** Optimizer updates a step makes (PPO: ppo_update_iters × minibatches) [1]. */
  updatesPerStep?: number;
  /** Losses a step records on the device with ctx.addLoss (supervised: one per micro-batch) [0]. */
  lossesPerStep?: number;
  /** Examples in one step over all ranks: data parallel needs at least one per rank. */
  globalBatch?: number;
  /** Estimated bytes one micro-batch's forward keeps for its backward (host backends check it fits). */
  activationBytes?: number;
  /** Settings a checkpoint must share to be continued exactly (batch size, seed, data size, ...). */
  resumeKey: Record<string, unknown>;
  step(ctx: StepContext): Promise<StepOutcome> | StepOutcome;
  /** Held-out numbers, logged as eval_<name> (a supervised stage's is {loss}). */
  evaluate?(): Promise<Record<string, number>> | Record<string, number>;
  /** Evaluate before the first step too (RL: the starting policy's accuracy). */
  evalAtStart?: boolean;
  /** Writes the stage's deliverable (model folder or adapter) into an empty folder. */
  saveModel(dir: string): void | Promise<void>;
  /** Name of the deliverable folder in outDir ('model' or 'adapter'). */
  modelDirName?: string;
  /** Shown in report.html. */
  info?: Record<string, unknown>;
}

export interface StepContext {
  /** 0-based step of the run, and its 0-based epoch and position in the epoch. */
  step: number;
  epoch: number;
  inEpoch: number;
  /** This step's sampling seed: depends only on (cfg.seed, step). */
  seed: number;
  dist?: DataParallel;
  /** Records a loss (a one-element tensor, left on the device): the step's loss is Σ weight·loss / divisor. */
  addLoss(loss: Tensor, weight: number, batch: number): void;
  /** One optimizer update of every group (see the header). */
  update(): Promise<Update>;
}

export interface StepOutcome {
  /** Tokens processed (for tokens/s); data parallel: this rank's. */
  tokens: number;
  /** Numbers to log (a loss for a stage that records none on the device); data parallel: this rank's part of their sum. */
  logs?: Record<string, number>;
  /** What the step's summed losses and logs are divided by (supervised: its micro-batches) [1]. */
  divisor?: number;
}

/** What one optimizer update did. */
export interface Update {
  /** The first group's learning rate in this update (each group's is scaled by its peak lr). */
  lr: number;
  /** Each group's gradient norm before clipping (one host read). */
  gradNorms(): number[];
}

export interface LoopSummary {
  steps: number;
  losses: number[];
  finalLoss: number;
  /** The last evaluation's loss (supervised stages with held-out data), else null. */
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
  /** The first and the last evaluation (null without one). */
  firstEval: Record<string, number> | null;
  lastEval: Record<string, number> | null;
  records: MetricRecord[];
}

// What the host keeps about a step until its values are read from the device.
interface StepInfo {
  step: number;
  epoch: number;
  lr: number;
  tokens: number;
  logs: Record<string, number>;
  divisor: number;
  /** The step's Σ weight·loss over the ranks (data parallel), else from its recorded losses. */
  lossSum?: number;
  /** This step's evaluation, when it made one. */
  evals?: Record<string, number>;
  /** The latest evaluation's loss, for progress. */
  evalLoss: number | null;
  /** A log line: what it says besides the loss and gradient norm. */
  line?: { tokensPerS: number; elapsed: number };
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

export async function runLoop(cfg: LoopConfig, stage: Stage): Promise<LoopSummary> {
  const t0 = Date.now();
  mkdirSync(cfg.outDir, { recursive: true });
  const dp = cfg.dist;
  const lead = !dp || dp.rank === 0; // logs, evaluates, checkpoints
  const perEpoch = stage.stepsPerEpoch;
  let totalSteps = cfg.epochs * perEpoch;
  if (cfg.maxSteps !== undefined && cfg.maxSteps > 0) totalSteps = Math.min(totalSteps, cfg.maxSteps);
  if (totalSteps <= 0) throw new UserError('nothing to train: 0 optimizer steps (check --epochs and --max-steps)');
  const lrAt = stage.schedule(totalSteps);
  const allParams = stage.groups.flatMap((g) => g.params.map(([, t]) => t));
  if (allParams[0].backend.device !== 'cuda') {
    // Host training adds a gradient and AdamW's two moments (fp32) per trained weight, and each
    // micro-batch's activations: refuse now a run this machine cannot hold, rather than be killed
    // mid-run (the operating system's OOM killer leaves no checkpoint and no message).
    const n = allParams.reduce((s, t) => s + t.size, 0);
    const act = allParams[0].backend.device === 'cpu' ? (stage.activationBytes ?? 0) : 0; // on WebGPU they are the card's
    if (act > 0) checkFitsInMemory(12 * n + act, `training ${n} parameters (gradients and AdamW moments: ${formatBytes(12 * n)}; one micro-batch's activations: about ${formatBytes(act)})`, 'lower --batch-size (raise --accumulation-steps to keep the global batch) or --max-seq-len, add --gradient-checkpointing, or train on a GPU (--device cuda)');
    else checkFitsInMemory(12 * n, `training ${n} parameters (their gradients and AdamW moments)`, 'train a smaller model, or on a GPU (--device cuda)');
  }
  const groups: (CheckpointGroup & { lr?: number; tensors: Tensor[] })[] = stage.groups.map((g) => {
    const tensors = g.params.map(([, t]) => t);
    return { ...g, tensors, optimizer: new AdamW(tensors, { lr: g.lr ?? cfg.lr, weightDecay: cfg.weightDecay ?? 0.01 }) };
  });
  const ckptRoot = join(cfg.outDir, 'checkpoints');
  const modelDir = join(cfg.outDir, stage.modelDirName ?? 'model');
  const info = { stage: cfg.stage, epochs: cfg.epochs, learning_rate: cfg.lr, steps: totalSteps, trainable_parameters: allParams.reduce((s, p) => s + p.size, 0), ...stage.info };
  let step = 0;
  let losses: number[] = [];
  let checkpointDir: string | null = null;
  const say = (m: string) => lead && cfg.log?.(m);

  if (cfg.resume) {
    const r = loadCheckpoint(ckptRoot, cfg.stage, groups, { totalSteps, key: stage.resumeKey }, say);
    step = r.state.step;
    losses = r.state.losses;
    checkpointDir = r.dir;
    say(`resuming ${cfg.stage} from ${r.dir}: step ${step}/${totalSteps}, epoch ${Math.floor(step / perEpoch) + 1}/${cfg.epochs}`);
  }
  if (dp) {
    const batch = stage.globalBatch ?? dp.worldSize;
    if (batch < dp.worldSize) throw new UserError(`--batch-size ${batch} is the global batch; it must be at least the number of ranks (${dp.worldSize}) so every rank gets examples`);
    // every rank built the same model from the same seed or checkpoint; rank 0's weights are
    // sent to all anyway (as DDP does), so nothing can make the replicas differ
    await dp.broadcastParameters(allParams);
    say(`data parallel: ${dp.worldSize} ranks (${dp.transport}), global batch ${batch}`);
  }
  const log = new RunLog(cfg.outDir, `MiniMind ${cfg.stage}`, info, { lead, resumeFromStep: cfg.resume ? step : undefined, onProgress: cfg.onProgress, log: cfg.log });

  const save = async () => {
    checkpointDir = await saveCheckpoint(ckptRoot, { stage: cfg.stage, step, totalSteps, losses, key: stage.resumeKey }, groups, { keep: cfg.keepCheckpoints, lastGood: checkpointDir });
    await publishModel(modelDir, (d) => stage.saveModel(d));
    cfg.onCheckpoint?.(checkpointDir);
  };

  let firstEval = null as Record<string, number> | null;
  let lastEval = null as Record<string, number> | null;
  const evaluate = async (at: number): Promise<Record<string, number>> => {
    const r = await stage.evaluate!();
    firstEval ??= r;
    lastEval = r;
    const other = Object.entries(r).filter(([k]) => k !== 'loss'); // a held-out loss is on the progress line
    if (other.length) say(`eval at step ${at}: ${other.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
    return r;
  };
  const evalRecord = (at: number, r: Record<string, number>): MetricRecord => Object.fromEntries([['step', at], ...Object.entries(r).map(([k, v]) => [`eval_${k}`, v])]) as MetricRecord;

  const updatesPerStep = stage.updatesPerStep ?? 1;
  const perStep = (stage.lossesPerStep ?? 0) + updatesPerStep * groups.length;
  const readEvery = Math.max(1, Math.floor(dp ? 1 : cfg.hostReadInterval ?? (allParams[0].backend.device === 'cpu' ? 1 : cfg.logInterval)));
  const stats = new DeviceStepStats<StepInfo, { weight: number; batch: number }>(allParams[0].backend, readEvery * perStep);
  // Reads every step since the last read and does what waited for its values; stops at the first
  // non-finite one (the device skipped it and every later one, so the weights are from before it).
  const readSteps = (): void => {
    const steps = stats.read();
    steps.forEach((st, k) => {
      const { info: s } = st;
      const later = steps.length - 1 - k;
      const notTaken = `the step was not taken${later > 0 ? ` (nor the ${later} after it, before this check)` : ''}`;
      const lastGood = checkpointDir ? ` (last good checkpoint: ${checkpointDir})` : '';
      const hint = `lower --learning-rate or check the data${lastGood}`;
      const badMicro = st.micro.find((m) => !Number.isFinite(m.loss));
      if (badMicro) throw new UserError(`${cfg.stage}: loss is ${badMicro.loss} at step ${s.step} (epoch ${s.epoch}, batch ${badMicro.info.batch + 1})${dp ? ` on rank ${dp.rank}` : ''}; ${notTaken}; ${hint}`);
      const recorded = st.micro.length > 0 || s.lossSum !== undefined;
      const loss = recorded ? (s.lossSum ?? st.micro.reduce((sum, m) => sum + m.info.weight * m.loss, 0)) / s.divisor : (s.logs.loss ?? NaN);
      if (!Number.isFinite(loss) && (recorded || s.logs.loss !== undefined)) throw new UserError(`${cfg.stage}: loss is ${loss} at step ${s.step} (epoch ${s.epoch}); ${notTaken}; ${hint}`);
      const badGrad = st.gradSq.find((g) => !Number.isFinite(g));
      if (badGrad !== undefined) throw new UserError(`${cfg.stage}: the gradient norm is ${Math.sqrt(badGrad)} at step ${s.step}; ${notTaken}. Lower --learning-rate or check the data${lastGood}`);
      // the model group's norm in the step's last update
      const gradNorm = Math.sqrt(st.gradSq[st.gradSq.length - groups.length] ?? NaN);
      losses.push(loss);
      if (s.line) {
        const rec: MetricRecord = { step: s.step, epoch: s.epoch, loss, lr: s.lr, ...s.logs, tokens_per_s: s.line.tokensPerS, elapsed_s: s.line.elapsed, grad_norm: gradNorm };
        if (Number.isNaN(loss)) delete rec.loss;
        log.record(s.evals ? { ...rec, ...evalRecord(s.step, s.evals) } : rec);
      } else if (s.evals) log.record(evalRecord(s.step, s.evals));
      log.progress({ stage: cfg.stage, step: s.step, totalSteps, epoch: s.epoch, loss, lr: s.lr, tokens: s.tokens, evalLoss: s.evalLoss, logs: s.logs });
    });
  };

  let tokens = 0;
  let stoppedEarly = false;
  let interrupted = false;
  let stepsThisRun = 0;
  let windowTokens = 0;
  let windowStart = Date.now();
  try {
    if (lead && stage.evaluate && stage.evalAtStart && step === 0) log.record(evalRecord(0, await evaluate(0)));
    while (step < totalSteps) {
      const epoch = Math.floor(step / perEpoch);
      let lr = NaN;
      let updates = 0;
      const update = async (): Promise<Update> => {
        updates++;
        if (updates > updatesPerStep) throw new Error(`${cfg.stage}: a step made more than the ${updatesPerStep} updates its stage declared`);
        if (dp) await dp.reduceGradients(allParams); // Σ over ranks of their shares = the global batch's gradient
        // the schedule's position: updates made so far (the AdamW step count, so --resume keeps it)
        lr = lrAt(groups[0].optimizer.stepCount + 1);
        // Σg² (before clipping) on the device; a non-finite one makes the guard skip the optimizer
        // step there. Checked on Σg² itself: clipping's device-side sqrt can saturate.
        const slots = groups.map((g) => {
          const gradSq = cfg.gradClip > 0 ? clipGradNormSq_(g.tensors, cfg.gradClip) : gradSumSq(g.tensors);
          const at = stats.addGradSq(gradSq);
          gradSq.dispose();
          return at;
        });
        for (const g of groups) {
          g.optimizer.lr = g.lr === undefined ? lr : (lr / cfg.lr) * g.lr;
          g.optimizer.step(stats.guard);
          g.optimizer.zeroGrad();
        }
        return { lr, gradNorms: () => stats.peek(slots).map(Math.sqrt) };
      };
      const outcome = await stage.step({
        step,
        epoch,
        inEpoch: step % perEpoch,
        seed: (cfg.seed * 1_000_003 + step) >>> 0,
        dist: dp,
        addLoss: (loss, weight, batch) => stats.addLoss(loss, { weight, batch }), // stays on the device
        update,
      });
      if (updates === 0) await update();
      let stopRequested = !!cfg.signal?.aborted;
      let stepTokens = outcome.tokens;
      const logs: Record<string, number> = { ...outcome.logs };
      let lossSum: number | undefined;
      if (dp) {
        // the loss, the tokens, the logs and a Ctrl-C on any rank are summed, so every rank takes the same decisions
        const keys = Object.keys(logs).sort();
        const local = stats.currentLosses().reduce((sum, m) => sum + m.info.weight * m.loss, 0);
        const v = await dp.allReduce(Float64Array.from([local, stepTokens, stopRequested ? 1 : 0, ...keys.map((k) => logs[k])]));
        lossSum = v[0];
        stepTokens = v[1];
        stopRequested = v[2] > 0;
        keys.forEach((k, i) => (logs[k] = v[3 + i]));
      }
      const divisor = outcome.divisor ?? 1;
      if (divisor !== 1) for (const k of Object.keys(logs)) logs[k] /= divisor;
      tokens += stepTokens;
      windowTokens += stepTokens;
      step++;
      stepsThisRun++;
      const last = step === totalSteps;
      const s: StepInfo = { step, epoch: epoch + 1, lr, tokens: stepTokens, logs, divisor, lossSum, evalLoss: lastEval?.loss ?? null };
      if (lead && stage.evaluate && ((cfg.evalInterval && step % cfg.evalInterval === 0) || last)) {
        s.evals = await evaluate(step);
        s.evalLoss = s.evals.loss ?? null;
      }
      const logStep = step % cfg.logInterval === 0 || last || step === 1;
      if (lead && logStep) {
        const secs = (Date.now() - windowStart) / 1000;
        s.line = { tokensPerS: Math.round(windowTokens / Math.max(secs, 1e-9)), elapsed: Math.round((Date.now() - t0) / 100) / 10 };
        windowTokens = 0;
        windowStart = Date.now();
      }
      stats.endStep(s);
      interrupted = !last && stopRequested;
      const stopNow = interrupted || (cfg.stopAfterSteps !== undefined && stepsThisRun >= cfg.stopAfterSteps && !last);
      const saveStep = step % cfg.saveInterval === 0 || last || stopNow;
      // the host reads here: every readEvery steps, and before a log line, a checkpoint or the end
      if (logStep || saveStep || stats.size >= readEvery || !stats.fits(perStep)) readSteps();
      if (lead && saveStep) await save();
      if (stopNow) {
        stoppedEarly = true;
        say(`stopped at step ${step}/${totalSteps}; checkpoint ${checkpointDir}; continue with --resume`);
        break;
      }
      await new Promise((r) => setImmediate(r)); // lets an abort (Ctrl-C in the CLI) be noticed
    }
  } finally {
    log.writeReport();
    for (const g of groups) g.optimizer.dispose();
    stats.dispose();
  }
  return { steps: step, losses, finalLoss: losses[losses.length - 1] ?? NaN, evalLoss: lastEval?.loss ?? null, seconds: (Date.now() - t0) / 1000, tokens, stoppedEarly, interrupted, checkpointDir, modelDir, firstEval, lastEval, records: log.records };
}

/**
 * Runs a stage in its run folder: claims it (refusing to replace an earlier run without
 * `overwrite`, and to share it with a live run), lets `prepare` load the data and build the
 * stage, then runs the loop. A failure before the first checkpoint leaves nothing behind.
 *
 * Under `minimind launch` (WORLD_SIZE > 1) every rank first joins the process group; rank 0
 * alone claims the folder and runs `prepare` first (it may fill a cache the others then read),
 * the other ranks prepare after it, and all train together.
 */
export async function runStage(cfg: LoopConfig, prepare: (lead: boolean) => Promise<Stage>): Promise<LoopSummary> {
  const env = distEnv();
  const group = env ? await ProcessGroup.join(env) : null;
  // A rank that fails leaves the group at once (abort): a goodbye would wait for ranks that are
  // still at a barrier, and the launcher stops them as soon as this one exits.
  if (group && group.rank !== 0) {
    let ok = false;
    try {
      await group.barrier(); // rank 0 has claimed the folder and prepared
      const stage = await prepare(false);
      const dist = await dataParallel(group, getBackend());
      try {
        const summary = await runLoop({ ...cfg, dist }, stage);
        ok = true;
        return summary;
      } finally {
        await dist.close();
      }
    } finally {
      if (ok) await group.close();
      else group.abort();
    }
  }
  let folder;
  try {
    folder = claimRunFolder(cfg.outDir, {
      resume: cfg.resume,
      overwrite: cfg.overwrite,
      hasCheckpoint: (dir) => latestCheckpointDir(join(dir, 'checkpoints')) !== null,
      log: cfg.log,
    });
  } catch (e) {
    group?.abort();
    throw e;
  }
  let failed = true;
  try {
    const stage = await prepare(true);
    folder.setEarlierAside();
    let dist: DataParallel | undefined;
    if (group) {
      await group.barrier();
      dist = await dataParallel(group, getBackend());
    }
    try {
      const summary = await runLoop({ ...cfg, dist, onCheckpoint: (d) => (folder.committed(), cfg.onCheckpoint?.(d)) }, stage);
      failed = false;
      return summary;
    } finally {
      await dist?.close();
    }
  } finally {
    folder.release(failed);
    if (failed) group?.abort();
    else await group?.close();
  }
}
