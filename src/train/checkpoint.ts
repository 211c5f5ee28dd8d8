// A run's training checkpoints and its published model folder, for every stage:
//   checkpoints/step-<N>/state.safetensors   every trained tensor (a group's names behind its
//                                            prefix: '' for the model, 'critic.' for PPO's
//                                            critic) and its AdamW moments (optimizer.m./v.<name>)
//   checkpoints/step-<N>/trainer_state.json  the counters and the settings a resume must share
//   model/ (or adapter/)                     the deliverable, swapped in whole (writeFolderAtomic)
// Every checkpoint is written atomically (atomic.ts); nothing non-finite is ever saved; every
// problem a user can cause or fix (a missing, damaged or mismatched checkpoint, a full disk) is a
// UserError of one line.
import { readFileSync, writeFileSync } from '../io/fs.js';
import { join } from '../io/path.js';
import { empty, type Tensor } from '../core/tensor.js';
import { UserError } from '../core/errors.js';
import { fb } from '../ops/util.js';
import type { AdamW } from '../optim/index.js';
import { readSafetensors, writeSafetensors, type HostTensor } from '../formats/safetensors.js';
import { latestCheckpointDir, saveCheckpointDir, writeFolderAtomic } from './atomic.js';

/** Tensors trained by one AdamW: their checkpoint names are prefix + name. */
export interface CheckpointGroup {
  prefix: string;
  params: [string, Tensor][];
  optimizer: AdamW;
}

/** trainer_state.json: the loop's counters plus the settings (`key`) a resume must match. */
export interface LoopState {
  stage: string;
  /** Steps done. */
  step: number;
  totalSteps: number;
  /** AdamW's step count of each group (bias correction, and the RL schedule's position). */
  adamSteps: number[];
  /** Each step's loss so far. */
  losses: number[];
  /** Settings that fix the data order and schedule (batch size, seed, dataset size, ...). */
  key: Record<string, unknown>;
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

/** The first tensor of `groups` holding a NaN or an infinity (its checkpoint name), or null. */
export function nonFiniteWeight(groups: readonly CheckpointGroup[]): string | null {
  const all = groups.flatMap((g) => g.params.map(([n, t]) => [g.prefix + n, t] as const));
  if (Number.isFinite(sumOfSquares(all.map(([, t]) => t)))) return null;
  return all.find(([, t]) => !Number.isFinite(sumOfSquares([t])))?.[0] ?? null;
}

function hostOf(t: Tensor): Float32Array {
  const a = t.toArray();
  return a instanceof Float32Array ? Float32Array.from(a) : Float32Array.from(a as ArrayLike<number>);
}

/** Reads a checkpoint's trainer_state.json, from this version or the one before it (optStep / adamStep). */
function readState(dir: string): LoopState {
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8'));
  } catch (e) {
    throw new UserError(`--resume: ${join(dir, 'trainer_state.json')} cannot be read (${(e as Error).message}); start the run again with --overwrite`);
  }
  if (s.key) return s as unknown as LoopState;
  // before the one loop: the settings beside the counters, optStep/adamStep (supervised) or step/adamSteps (RL)
  const { stage, step, optStep, micro: _m, totalSteps, adamStep, adamSteps, losses, ...key } = s;
  return { stage: stage as string, step: (step ?? optStep) as number, totalSteps: totalSteps as number, adamSteps: (adamSteps ?? [adamStep]) as number[], losses: (losses ?? []) as number[], key };
}

/**
 * Loads the newest complete checkpoint under `root` into the groups' tensors and optimizers,
 * after checking that it was made by the same stage with the same `want` settings (so the run
 * continues exactly). `warn` hears about a damaged newest checkpoint that was passed over.
 */
export function loadCheckpoint(root: string, stage: string, groups: readonly CheckpointGroup[], want: { totalSteps: number; key: Record<string, unknown> }, warn?: (message: string) => void): { dir: string; state: LoopState } {
  const dir = latestCheckpointDir(root, warn);
  if (dir === null) throw new UserError(`--resume: no complete checkpoint in ${root}; start a new run without --resume`);
  const state = readState(dir);
  const had: Record<string, unknown> = { stage: state.stage, ...state.key, totalSteps: state.totalSteps };
  for (const [k, v] of Object.entries({ stage, ...want.key, totalSteps: want.totalSteps })) {
    if (had[k] !== v) throw new UserError(`--resume: the checkpoint in ${dir} was made with ${k}=${JSON.stringify(had[k])}, this run has ${k}=${JSON.stringify(v)}; use the same settings to continue it exactly`);
  }
  if (state.adamSteps.length !== groups.length) throw new UserError(`--resume: ${dir} holds ${state.adamSteps.length} optimizer state(s), this stage trains ${groups.length}`);
  let tensors: Map<string, HostTensor>;
  try {
    tensors = readSafetensors(join(dir, 'state.safetensors')).tensors;
  } catch (e) {
    throw new UserError(`--resume: ${join(dir, 'state.safetensors')}: ${(e as Error).message}`);
  }
  const value = (key: string, t: Tensor): Float32Array => {
    const h = tensors.get(key);
    if (!h) throw new UserError(`--resume: ${dir} has no tensor '${key}'`);
    if (h.data.length !== t.size) throw new UserError(`--resume: '${key}' in ${dir} has ${h.data.length} values, the model has ${t.size}`);
    return h.data as Float32Array;
  };
  groups.forEach((g, i) => {
    for (const [name, t] of g.params) {
      const w = value(g.prefix + name, t);
      const up = t.backend.upload(t.dtype === 'float64' ? Float64Array.from(w) : w);
      t.backend.copy(t.buf, up, t.size);
      t.backend.free(up);
    }
    const moments = (m: string) => g.params.map(([name, t]) => value(`optimizer.${m}.${g.prefix}${name}`, t));
    g.optimizer.loadStateDict({ step: state.adamSteps[i], m: moments('m'), v: moments('v') });
  });
  return { dir, state: { ...state, losses: state.losses.slice(0, state.step) } };
}

/**
 * Writes checkpoints/step-<N> (keeping the newest `keep`) after checking that every weight is
 * finite: a non-finite weight would poison every later run, so nothing is saved and the last
 * good checkpoint (`lastGood`) stays.
 */
export async function saveCheckpoint(root: string, state: Omit<LoopState, 'adamSteps'>, groups: readonly CheckpointGroup[], o: { keep?: number; lastGood?: string | null } = {}): Promise<string> {
  const bad = nonFiniteWeight(groups);
  if (bad) throw new UserError(`${state.stage}: weight '${bad}' is not finite after step ${state.step}; nothing was saved (the last good checkpoint${o.lastGood ? `, ${o.lastGood},` : ''} is kept). Lower --learning-rate or check the data`);
  const full: LoopState = { ...state, adamSteps: groups.map((g) => g.optimizer.stepCount) };
  return saveCheckpointDir(
    root,
    state.step,
    (dir) => {
      const tensors: Record<string, HostTensor> = {};
      for (const g of groups) {
        const st = g.optimizer.stateDict();
        g.params.forEach(([name, t], i) => {
          const shape = [...t.shape];
          const key = g.prefix + name;
          tensors[key] = { dtype: 'F32', shape, data: hostOf(t) };
          tensors['optimizer.m.' + key] = { dtype: 'F32', shape, data: st.m[i] };
          tensors['optimizer.v.' + key] = { dtype: 'F32', shape, data: st.v[i] };
        });
      }
      writeSafetensors(join(dir, 'state.safetensors'), tensors, { format: 'pt', stage: state.stage });
      writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify(full, null, 2) + '\n');
    },
    o.keep ?? 2,
  );
}

/** Publishes the run's deliverable: `write(tmp)` fills a fresh folder that replaces `dir` whole. */
export async function publishModel(dir: string, write: (tmp: string) => void | Promise<void>): Promise<void> {
  await writeFolderAtomic(dir, write);
}

export { latestCheckpointDir };
