// `minimind ppo`: proximal policy optimisation with a critic (MiniMind HEAD trainer/train_ppo.py).
// Per step: one sample per prompt; the scalar reward on its last response token; the critic's
// values; GAE (γ, λ) and returns; advantages whitened over the response tokens; then
// ppoUpdateIters epochs over shuffled minibatches, each one update of the actor (clipped ratio +
// klCoef·k3 KL to the frozen reference) and of the critic (clipped value loss), with separate
// AdamW optimizers and schedules; the cosine schedule advances after every minibatch update
// (MiniMind's CosineAnnealingLR, T_max = steps × ppo_update_iters × minibatches). When the
// approximate KL (mean ½(log π − log π_old)²) of a minibatch passes earlyStopKl, that minibatch
// and the rest of the epoch run with their loss multiplied by 0 and no further epoch runs: as in
// MiniMind (which keeps the forward-backward for DDP), their updates still clip, step AdamW (its
// momentum and weight decay move the weights) and advance the schedule.
import { RL_DEFAULTS, RL_LIMITS, type RlRunOptions } from './rl/options.js';
import { intOption } from './options.js';
import { noGrad } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import { tensor } from '../core/tensor.js';
import * as ops from '../ops/index.js';
import { mixSeed, mulberry32, permutation } from '../data/rng.js';
import { loadModel } from './common.js';
import { clippedValueLoss, gae, ppoPolicyLoss, whitenAdvantages } from './rl/losses.js';
import { hostLoss } from './rl/policy-loss.js';
import { packRows, policyLogprobs, promptCompletionRows, scoreRows, type PackedRows } from './rl/rollout.js';
import type { Update } from './loop.js';
import { UserError } from '../core/errors.js';
import type { RewardFunction } from './rl/reward-fns.js';
import type { MiniMindForCausalLM } from '../model/model.js';
import { Critic } from './rl/critic.js';
import { resolveRl, loadRlModels, mean, policyHooks, promptRenderer, rolloutStats, runRl, sampleAndScore, type RlSummary } from './rl/stage.js';

export interface PpoOptions extends RlRunOptions {
  rewards: RewardFunction[];
  criticLearningRate?: number;
  clipEpsilon?: number;
  vfCoef?: number;
  klCoef?: number;
  gamma?: number;
  lam?: number;
  clipRangeValue?: number;
  ppoUpdateIters?: number;
  earlyStopKl?: number;
  miniBatchSize?: number;
  maxNewTokens?: number;
  maxSeqLen?: number;
}

/** MiniMind train_ppo.py defaults. */
export const PPO_DEFAULTS = {
  ...RL_DEFAULTS,
  criticLearningRate: 5e-7,
  clipEpsilon: 0.2,
  vfCoef: 0.5,
  klCoef: 0.02,
  gamma: 1.0,
  lam: 0.95,
  clipRangeValue: 0.2,
  ppoUpdateIters: 2,
  earlyStopKl: 0.25,
  miniBatchSize: 2,
  maxNewTokens: 1024,
  maxSeqLen: 768,
  thinkingRatio: 0.9,
};

/** Rows `rows` of a packed batch (same width L). */
function selectRows(b: PackedRows, rows: number[]): PackedRows {
  const L = b.L;
  const take = <A extends Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
    const out = make(rows.length * L);
    rows.forEach((r, i) => out.set(a.subarray(r * L, (r + 1) * L), i * L));
    return out;
  };
  return { R: rows.length, L, ids: take(b.ids, (n) => new Int32Array(n)), targets: take(b.targets, (n) => new Int32Array(n)), mask: take(b.mask, (n) => new Float64Array(n)), lengths: rows.map((r) => b.lengths[r]) };
}

/** Rows `rows` of an (R, L) array. */
function rowsOf(a: Float64Array, rows: number[], L: number): Float64Array {
  const out = new Float64Array(rows.length * L);
  rows.forEach((r, i) => out.set(a.subarray(r * L, (r + 1) * L), i * L));
  return out;
}

/** PPO's frozen and trained models: the policy, the reference it is held to, the critic. */
export interface PpoModels {
  policy: MiniMindForCausalLM;
  ref: MiniMindForCausalLM;
  critic: Critic;
}

export type PpoSettings = Required<Pick<PpoOptions, 'clipEpsilon' | 'vfCoef' | 'klCoef' | 'gamma' | 'lam' | 'clipRangeValue' | 'ppoUpdateIters' | 'earlyStopKl' | 'miniBatchSize'>>;

/** One minibatch update's numbers (MiniMind computes the same per minibatch). */
export interface PpoMinibatch {
  policyLoss: number;
  valueLoss: number;
  approxKl: number;
  /** k3 KL to the reference. */
  kl: number;
  clipFraction: number;
  /** True when this update's loss was multiplied by 0 (the KL early stop had fired). */
  stopped: boolean;
  /** The update's lr (the actor's) and each group's gradient norm before clipping (actor, critic). */
  update: { lr: number; gradNorms: number[] };
}

/**
 * The learning part of a PPO step on one rollout (MiniMind's ppo_train_epoch after
 * calculate_rewards): old log-probs and values, GAE, whitened advantages, then ppoUpdateIters
 * epochs over minibatches, each rows order(epoch) taken miniBatchSize at a time, one update()
 * each. rewards: one scalar per row, put on its last response token.
 */
export async function ppoUpdates(m: PpoModels, b: PackedRows, rewards: ArrayLike<number>, o: PpoSettings, order: (epoch: number) => number[], update: () => Promise<Update>): Promise<{ minibatches: PpoMinibatch[]; entropy: Float64Array }> {
  const { policy, critic } = m;
  const { R, L, mask } = b;
  const old = scoreRows(policy, b, true);
  const refLp = scoreRows(m.ref, b).logp;
  let oldValues!: Float64Array;
  noGrad(() => scope(() => void (oldValues = critic.valuesHost(b.ids, R, L))));
  for (let i = 0; i < oldValues.length; i++) oldValues[i] *= mask[i];
  const tokenRewards = new Float64Array(R * L);
  for (let r = 0; r < R; r++) {
    let last = -1;
    for (let t = 0; t < L; t++) if (mask[r * L + t]) last = t;
    if (last >= 0) tokenRewards[r * L + last] += rewards[r];
  }
  const { advantages, returns } = gae(tokenRewards, oldValues, mask, R, L, o.gamma, o.lam);
  const adv = whitenAdvantages(advantages, mask);

  const mb = Math.max(1, Math.min(o.miniBatchSize, R));
  const minibatches: PpoMinibatch[] = [];
  let stop = false;
  for (let epoch = 0; epoch < o.ppoUpdateIters && !stop; epoch++) {
    const rowOrder = order(epoch);
    for (let s = 0; s < R; s += mb) {
      const rows = rowOrder.slice(s, s + mb);
      const sub = selectRows(b, rows);
      const r = scope(() => {
        const { logp, auxLoss } = policyLogprobs(policy, sub);
        const pl = hostLoss(logp, (v) => ppoPolicyLoss({ R: sub.R, T: L, logp: v, oldLogp: rowsOf(old.logp, rows, L), refLogp: rowsOf(refLp, rows, L), mask: sub.mask }, rowsOf(adv, rows, L), o.clipEpsilon, o.klCoef));
        // MiniMind's critic returns values only: a MoE critic's aux loss is not trained
        const { values } = critic.values(tensor(sub.ids, [sub.R, L], 'int32'));
        const vl = hostLoss(values, (v) => clippedValueLoss(v, rowsOf(oldValues, rows, L), rowsOf(returns, rows, L), sub.mask, o.clipRangeValue));
        if (pl.result.approxKl > o.earlyStopKl) stop = true;
        let total = ops.add(pl.loss, ops.scale(vl.loss, o.vfCoef));
        if (auxLoss) total = ops.add(total, auxLoss);
        // stopped: the gradients are 0, but the update below still runs (MiniMind: loss * 0.0)
        (stop ? ops.scale(total, 0) : total).backward();
        return { policyLoss: pl.result.loss, valueLoss: vl.result.loss, approxKl: pl.result.approxKl, kl: pl.result.stats.kl, clipFraction: pl.result.stats.clipFraction, stopped: stop };
      });
      const u = await update();
      minibatches.push({ ...r, update: { lr: u.lr, gradNorms: u.gradNorms() } });
    }
  }
  return { minibatches, entropy: old.entropy! };
}

export async function ppo(options: PpoOptions): Promise<RlSummary> {
  const { o, cfg } = resolveRl('ppo', PPO_DEFAULTS, options);
  intOption(o, 'ppoUpdateIters', 1, 1, RL_LIMITS.ppoUpdateIters);
  intOption(o, 'miniBatchSize', 1, 1);
  if (o.rewards.length === 0) throw new UserError('ppo: give at least one reward function');
  const m = loadRlModels('ppo', o);
  const critic = new Critic(loadModel(o.initFrom).train(), o.seed);
  const renderPrompt = promptRenderer(m, o.maxSeqLen);

  return runRl(cfg, o, {
    ...policyHooks(o, m),
    extraGroups: [{ prefix: 'critic.', params: critic.namedParameters(), lr: o.criticLearningRate }],
    // a step's rows: its prompts, one sample each (a batch larger than the data holds all of it)
    updatesPerStep: o.ppoUpdateIters * Math.ceil(Math.min(o.batchSize, o.prompts.length) / o.miniBatchSize),
    info: { clip_epsilon: o.clipEpsilon, kl_coef: o.klCoef, vf_coef: o.vfCoef, gamma: o.gamma, lam: o.lam, ppo_update_iters: o.ppoUpdateIters, mini_batch_size: o.miniBatchSize, critic_learning_rate: o.criticLearningRate, init_from: o.initFrom },
    step: async (indices, { seed, update }) => {
      const rand = mulberry32(mixSeed(seed, 7));
      const batch = [...indices].map((i) => o.prompts[i]);
      const promptIds = batch.map((p) => renderPrompt(p, rand() < o.thinkingRatio));
      const { completions, ...scored } = await sampleAndScore(m, batch, promptIds, o.rewards, { ...o, numGenerations: 1, seed });
      const b = packRows(promptCompletionRows(promptIds, completions), m.pad);
      const { minibatches, entropy } = await ppoUpdates({ ...m, critic }, b, scored.total, o, (epoch) => Array.from(permutation(b.R, mixSeed(seed, 100 + epoch))), update);
      const avg = (f: (x: PpoMinibatch) => number) => minibatches.reduce((s, x) => s + f(x), 0) / Math.max(minibatches.length, 1);
      const logs: Record<string, number> = {
        loss: avg((x) => x.policyLoss),
        value_loss: avg((x) => x.valueLoss),
        approx_kl: avg((x) => x.approxKl),
        kl: avg((x) => x.kl),
        clip_frac: avg((x) => x.clipFraction),
        reward: mean(scored.total),
        ...rolloutStats(entropy, b.mask, b.R),
        early_stop: minibatches.some((x) => x.stopped) ? 1 : 0,
      };
      for (const [name, values] of Object.entries(scored.parts)) logs[`reward_${name}`] = mean(values);
      return { logs, tokens: b.lengths.reduce((s, x) => s + x, 0) };
    },
  });
}
