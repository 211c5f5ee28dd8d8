// The loop every RL stage shares (grpo, agent; MiniMind's *_train_epoch): per step a batch of
// prompts in a seeded per-epoch order, the stage's rollout + loss + backward, then gradient
// clipping, AdamW and the cosine lr (MiniMind: CosineAnnealingLR down to lr/10, stepped after
// every optimizer update over T_max = steps × updates per step). One update per rollout (grpo,
// agent) or several (ppo's minibatches), as MiniMind does. Around it: metrics.jsonl + report.html + progress line every
// log_interval steps (reward, KL, clip fraction, length, entropy ...), an optional evaluation
// hook, atomic checkpoints every save_interval steps and at the end, exact --resume (a step's
// prompts and sampling seed depend only on (seed, step)), and an aborted cfg.signal (Ctrl-C in the CLI) = checkpoint and stop.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../core/tensor.js';
import { scope } from '../../core/scope.js';
import { AdamW, clipGradNorm, cosineLr } from '../../optim/index.js';
import { BatchPlan } from '../../data/batches.js';
import { readSafetensors, writeSafetensors, type HostTensor } from '../../formats/safetensors.js';
import { latestCheckpointDir, saveCheckpointDir, writeFolderAtomic } from '../atomic.js';
import { claimRunFolder, type RunFolder } from '../run-folder.js';
import { MetricsWriter, type MetricRecord } from '../metrics.js';
import { writeReport } from '../report.js';
import { Progress } from '../progress.js';

export interface RlLoopConfig {
  stage: string;
  outDir: string;
  /** Prompts in the dataset. */
  prompts: number;
  /** Prompts per step. */
  batchSize: number;
  epochs: number;
  /** Cap on steps (shortens the run and its schedule). */
  maxSteps?: number;
  lr: number;
  weightDecay: number;
  gradClip: number;
  logInterval: number;
  saveInterval: number;
  /** Run `evaluate` every N steps (and at the start and the end); 0 = never. */
  evalInterval: number;
  seed: number;
  resume: boolean;
  /** Replace an earlier run in outDir (kept aside until this run's first checkpoint). */
  overwrite?: boolean;
  /** Stop (with a checkpoint) after this many steps of this invocation. */
  stopAfterSteps?: number;
  quiet: boolean;
  /** Aborting stops after the current step with a checkpoint (the CLI aborts on Ctrl-C). */
  signal?: AbortSignal;
}

export interface RlStepOutcome {
  /** Numbers to log (reward, kl, ...): averaged over the steps of a log interval. */
  logs: Record<string, number>;
  /** Tokens processed (for tokens/s). */
  tokens: number;
}

export interface ParamGroup {
  /** Prefix of this group's names in checkpoints ('' for the policy, 'critic.' for PPO's critic). */
  prefix: string;
  params: [string, Tensor][];
  /** Peak learning rate (cosine down to a tenth); default the loop's lr. */
  lr?: number;
}

export interface RlStage {
  /** The policy's trainable parameters. */
  params: [string, Tensor][];
  /** More parameters with their own AdamW and schedule (PPO's critic). */
  extraGroups?: ParamGroup[];
  /**
   * Optimizer updates a step makes (PPO: ppo_update_iters × minibatches; default 1). The cosine
   * schedule spans steps × this many updates and advances once per update actually made, as
   * MiniMind's CosineAnnealingLR(T_max = iters × epochs × updates) does.
   */
  updatesPerStep?: number;
  /**
   * Rollout, loss and backward for the prompts `indices`; `seed` is this step's sampling seed.
   * update() sets the scheduled lr, clips the gradients, steps every optimizer and zeroes the
   * gradients; a stage that never calls it (one update per rollout) gets one call after step()
   * returns. PPO calls it once per minibatch.
   */
  step(indices: Uint32Array, seed: number, stepIndex: number, update: () => RlUpdate): Promise<RlStepOutcome> | RlStepOutcome;
  /** Held-out measurements (e.g. accuracy), logged as eval_* records. */
  evaluate?(): Promise<Record<string, number>> | Record<string, number>;
  saveModel(dir: string): void | Promise<void>;
  info?: Record<string, unknown>;
}

/** What one optimizer update did. */
export interface RlUpdate {
  /** The policy's learning rate in this update (each group's is scaled by its peak lr). */
  lr: number;
  /** Each group's gradient norm before clipping (policy first; NaN without clipping). */
  gradNorms: number[];
}

export interface RlSummary {
  steps: number;
  seconds: number;
  stoppedEarly: boolean;
  modelDir: string;
  /** The last evaluation (null without an evaluate hook). */
  lastEval: Record<string, number> | null;
  firstEval: Record<string, number> | null;
  records: MetricRecord[];
}

interface RlState {
  stage: string;
  step: number;
  totalSteps: number;
  batchSize: number;
  seed: number;
  prompts: number;
  /** AdamW step count of each parameter group. */
  adamSteps: number[];
}

export async function rlLoop(cfg: RlLoopConfig, stage: RlStage): Promise<RlSummary> {
  // the run folder as the supervised stages claim it (run-folder.ts): an earlier run is continued
  // with resume, replaced with overwrite (kept aside until this run's first checkpoint), else refused
  const folder = claimRunFolder(cfg.outDir, {
    resume: cfg.resume,
    overwrite: cfg.overwrite,
    hasCheckpoint: (dir) => latestCheckpointDir(join(dir, 'checkpoints')) !== null,
    log: (m) => cfg.quiet || process.stderr.write(m + '\n'),
  });
  let failed = true;
  try {
    const summary = await loop(cfg, stage, folder);
    failed = false;
    return summary;
  } finally {
    folder.release(failed);
  }
}

async function loop(cfg: RlLoopConfig, stage: RlStage, folder: RunFolder): Promise<RlSummary> {
  const t0 = Date.now();
  let progress: Progress | null = null;
  const say = (m: string) => {
    if (!cfg.quiet) progress ? progress.log(m) : process.stderr.write(m + '\n');
  };
  const plan = new BatchPlan(cfg.prompts, { batchSize: cfg.batchSize, seed: cfg.seed });
  const perEpoch = plan.batchesPerEpoch;
  let totalSteps = cfg.epochs * perEpoch;
  if (cfg.maxSteps !== undefined && cfg.maxSteps > 0) totalSteps = Math.min(totalSteps, cfg.maxSteps);
  const groups: (ParamGroup & { optimizer: AdamW; lr: number })[] = [{ prefix: '', params: stage.params }, ...(stage.extraGroups ?? [])].map((g) => ({
    ...g,
    lr: g.lr ?? cfg.lr,
    optimizer: new AdamW(g.params.map(([, t]) => t), { lr: g.lr ?? cfg.lr, weightDecay: cfg.weightDecay }),
  }));
  const updatesPerStep = stage.updatesPerStep ?? 1;
  const named = groups.flatMap((g) => g.params.map(([name, t]) => [g.prefix + name, t] as [string, Tensor]));
  const ckptRoot = join(cfg.outDir, 'checkpoints');
  const modelDir = join(cfg.outDir, 'model');
  let step = 0;

  if (cfg.resume) {
    const dir = latestCheckpointDir(ckptRoot);
    if (dir === null) throw new Error(`--resume: no checkpoint in ${ckptRoot}`);
    const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as RlState;
    const want: Partial<RlState> = { stage: cfg.stage, totalSteps, batchSize: cfg.batchSize, seed: cfg.seed, prompts: cfg.prompts };
    for (const [k, v] of Object.entries(want)) {
      const had = (state as unknown as Record<string, unknown>)[k];
      if (had !== v) throw new Error(`--resume: the checkpoint in ${dir} was made with ${k}=${JSON.stringify(had)}, this run has ${k}=${JSON.stringify(v)}; use the same settings to continue it`);
    }
    const { tensors } = readSafetensors(join(dir, 'state.safetensors'));
    const value = (key: string, size: number) => {
      const h = tensors.get(key);
      if (!h || h.data.length !== size) throw new Error(`--resume: ${dir} has no matching tensor '${key}'`);
      return h.data as Float32Array;
    };
    for (const [name, t] of named) {
      const up = t.backend.upload(value(name, t.size));
      t.backend.copy(t.buf, up, t.size);
      t.backend.free(up);
    }
    groups.forEach((g, i) => {
      const keys = g.params.map(([name, t]) => [g.prefix + name, t.size] as const);
      g.optimizer.loadStateDict({ step: state.adamSteps[i], m: keys.map(([k, n]) => value('optimizer.m.' + k, n)), v: keys.map(([k, n]) => value('optimizer.v.' + k, n)) });
    });
    step = state.step;
    say(`resuming ${cfg.stage} from ${dir}: step ${step}/${totalSteps}`);
  }

  folder.setEarlierAside();
  const metrics = new MetricsWriter(join(cfg.outDir, 'metrics.jsonl'), cfg.resume ? step : undefined);
  const info = { stage: cfg.stage, prompts: cfg.prompts, batch_size: cfg.batchSize, epochs: cfg.epochs, learning_rate: cfg.lr, steps: totalSteps, ...stage.info };
  const report = () => writeReport(cfg.outDir, `MiniMind ${cfg.stage}`, metrics.records, info);

  const save = async () => {
    const state: RlState = { stage: cfg.stage, step, totalSteps, batchSize: cfg.batchSize, seed: cfg.seed, prompts: cfg.prompts, adamSteps: groups.map((g) => g.optimizer.stepCount) };
    await saveCheckpointDir(ckptRoot, step, (dir) => {
      const tensors: Record<string, HostTensor> = {};
      for (const g of groups) {
        const st = g.optimizer.stateDict();
        g.params.forEach(([name, t], i) => {
          const shape = [...t.shape];
          const key = g.prefix + name;
          tensors[key] = { dtype: 'F32', shape, data: Float32Array.from(t.toArray() as ArrayLike<number>) };
          tensors['optimizer.m.' + key] = { dtype: 'F32', shape, data: st.m[i] };
          tensors['optimizer.v.' + key] = { dtype: 'F32', shape, data: st.v[i] };
        });
      }
      writeSafetensors(join(dir, 'state.safetensors'), tensors, { format: 'pt', stage: cfg.stage });
      writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
    });
    await writeFolderAtomic(modelDir, (dir) => stage.saveModel(dir));
    folder.committed();
  };

  let firstEval: Record<string, number> | null = null;
  let lastEval: Record<string, number> | null = null;
  const runEval = async (at: number) => {
    if (!stage.evaluate) return;
    const r = await stage.evaluate();
    if (firstEval === null) firstEval = r;
    lastEval = r;
    const rec: MetricRecord = { step: at };
    for (const [k, v] of Object.entries(r)) rec[`eval_${k}`] = v;
    metrics.write(rec);
    report();
    say(`eval at step ${at}: ${Object.entries(r).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ')}`);
  };

  let stoppedEarly = false;
  let stepsThisRun = 0;
  const window: Record<string, number> = {};
  let windowSteps = 0;
  let windowTokens = 0;
  let windowStart = Date.now();
  try {
    if (cfg.evalInterval > 0 && step === 0) await runEval(0);
    if (!cfg.quiet) progress = new Progress(cfg.stage, totalSteps, { logEvery: cfg.logInterval });
    while (step < totalSteps) {
      const epoch = Math.floor(step / perEpoch);
      const indices = plan.batchIndices(epoch, step % perEpoch);
      let updates = 0;
      let lr = NaN;
      let gradNorm = NaN;
      const update = (): RlUpdate => {
        updates++;
        // the schedule's position = updates made so far (the AdamW step count, so --resume keeps it)
        lr = cosineLr(groups[0].optimizer.stepCount, { lr: cfg.lr, totalSteps: totalSteps * updatesPerStep, warmupSteps: 0, minRatio: 0.1 });
        const gradNorms = groups.map((g) => {
          g.optimizer.lr = (lr / cfg.lr) * g.lr;
          const norm = cfg.gradClip > 0 ? scope(() => clipGradNorm(g.params.map(([, t]) => t), cfg.gradClip)) : NaN;
          g.optimizer.step();
          g.optimizer.zeroGrad();
          return norm;
        });
        gradNorm = gradNorms[0];
        return { lr, gradNorms };
      };
      const outcome = await stage.step(indices, (cfg.seed * 1_000_003 + step) >>> 0, step, update);
      if (updates === 0) update();
      step++;
      stepsThisRun++;
      for (const [k, v] of Object.entries(outcome.logs)) window[k] = (window[k] ?? 0) + v;
      if (Number.isFinite(gradNorm)) window.grad_norm = (window.grad_norm ?? 0) + gradNorm;
      windowSteps++;
      windowTokens += outcome.tokens;
      const last = step === totalSteps;
      if (step % cfg.logInterval === 0 || last || step === 1) {
        const secs = (Date.now() - windowStart) / 1000;
        const rec: MetricRecord = { step, epoch: epoch + 1, lr };
        for (const [k, v] of Object.entries(window)) rec[k] = v / windowSteps;
        rec.tokens_per_s = Math.round(windowTokens / Math.max(secs, 1e-9));
        rec.elapsed_s = Math.round((Date.now() - t0) / 100) / 10;
        metrics.write(rec);
        report();
        for (const k of Object.keys(window)) delete window[k];
        windowSteps = 0;
        windowTokens = 0;
        windowStart = Date.now();
      }
      progress?.update(step, outcome.tokens, { loss: outcome.logs.loss, lr, extra: pick(outcome.logs, ['reward', 'kl', 'len']) });
      if (cfg.evalInterval > 0 && (step % cfg.evalInterval === 0 || last)) await runEval(step);
      const stopNow = !!cfg.signal?.aborted || (cfg.stopAfterSteps !== undefined && stepsThisRun >= cfg.stopAfterSteps && !last);
      if (step % cfg.saveInterval === 0 || last || stopNow) await save();
      if (stopNow) {
        stoppedEarly = true;
        say(`stopped at step ${step}/${totalSteps}; continue with --resume`);
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    progress?.finish();
    report();
    for (const g of groups) g.optimizer.dispose();
  }
  return { steps: step, seconds: (Date.now() - t0) / 1000, stoppedEarly, modelDir, firstEval, lastEval, records: metrics.records };
}

function pick(logs: Record<string, number>, keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (logs[k] !== undefined) out[k] = logs[k];
  return out;
}
