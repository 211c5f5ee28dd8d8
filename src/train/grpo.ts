// `minimind grpo`: group-relative policy optimisation (MiniMind HEAD trainer/train_grpo.py).
// Per step: a batch of prompts; G samples of each from the policy (temperature 0.8, top-p 0.85,
// top-k 50); a reward per sample (rule rewards, ground truth, or any function); advantages
// relative to the sample's group, A = (r − mean) / (std + 1e-4); old log-probs from the policy
// and reference log-probs from the frozen starting model, both recomputed without gradients;
// then one update with the CISPO (default) or GRPO loss plus β·k3-KL (losses.ts).
//
//   const summary = await grpo({ initFrom: 'runs/sft/model', prompts, out: 'runs/grpo', rewards: [ruleReward] });
import type { RlRunOptions } from './rl/options.js';
import { scope } from '../core/scope.js';
import * as ops from '../ops/index.js';
import { mulberry32, mixSeed } from '../data/rng.js';
import type { RlPrompt } from '../data/rl.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { loadModelFolder, saveModelFolder } from '../formats/hf-folder.js';
import { loadFrozenModel } from './common.js';
import { groupAdvantages, grpoLoss, type PolicyLossType } from './rl/losses.js';
import { hostLoss } from './rl/policy-loss.js';
import { packRows, policyLogprobs, promptCompletionRows, sampleGroups, scoreRows } from './rl/rollout.js';
import { saveDtypeOption } from './options.js';
import { rlLoop, type RlSummary } from './rl/loop.js';
import { type RewardFunction, scoreCompletions } from './rl/reward-fns.js';

export interface GrpoOptions extends RlRunOptions {
  /** Summed into the reward of each sample (MiniMind: rule rewards + a reward model). */
  rewards: RewardFunction[];
  loss?: PolicyLossType;
  numGenerations?: number;
  beta?: number;
  epsilon?: number;
  epsilonHigh?: number;
  maxNewTokens?: number;
  /** Prompts are cut to their last maxSeqLen tokens. */
  maxSeqLen?: number;
}

/** MiniMind train_grpo.py defaults. */
export const GRPO_DEFAULTS = {
  loss: 'cispo' as PolicyLossType,
  numGenerations: 6,
  beta: 0.1,
  epsilon: 0.2,
  epsilonHigh: 5.0,
  maxNewTokens: 1024,
  maxSeqLen: 768,
  temperature: 0.8,
  topP: 0.85,
  topK: 50,
  thinkingRatio: 0.9,
  batchSize: 2,
  epochs: 1,
  learningRate: 3e-7,
  weightDecay: 0.01,
  gradClip: 1.0,
  logInterval: 1,
  saveInterval: 10,
  seed: 42,
};

export async function grpo(options: GrpoOptions): Promise<RlSummary> {
  const o = { ...GRPO_DEFAULTS, ...stripUndefined(options) };
  saveDtypeOption(o.saveDtype); // a bad value fails now, not at the first save
  if (o.rewards.length === 0) throw new Error('grpo: give at least one reward function');
  if (!Number.isInteger(o.numGenerations) || o.numGenerations < 2) throw new Error(`grpo: numGenerations must be ≥ 2 (advantages compare samples of a group), got ${o.numGenerations}`);
  const tokenizer = Tokenizer.load(o.initFrom);
  const eos = tokenizer.eosTokenId;
  if (eos === undefined) throw new Error(`${o.initFrom}: the tokenizer has no eos_token (the end-of-turn token rollouts stop at)`);
  const pad = tokenizer.padTokenId ?? 0;
  const policy = loadModelFolder(o.initFrom).model;
  policy.train();
  const ref = loadFrozenModel(o.initFrom);

  const renderPrompt = (p: RlPrompt, openThinking: boolean): number[] => {
    const ids = tokenizer.encode(tokenizer.applyChatTemplate(p.messages, { addGenerationPrompt: true, openThinking, ...(p.tools ? { tools: p.tools } : {}) }));
    return ids.length > o.maxSeqLen ? ids.slice(ids.length - o.maxSeqLen) : ids;
  };

  return rlLoop(
    {
      stage: 'grpo', outDir: o.out, prompts: o.prompts.length, batchSize: o.batchSize, epochs: o.epochs, maxSteps: o.maxSteps,
      lr: o.learningRate, weightDecay: o.weightDecay, gradClip: o.gradClip, logInterval: o.logInterval, saveInterval: o.saveInterval,
      evalInterval: o.evaluate ? (o.evalInterval ?? 10) : 0, seed: o.seed, resume: !!o.resume, stopAfterSteps: o.stopAfterSteps, quiet: !!o.quiet, signal: options.signal,
    },
    {
      params: policy.namedParameters().filter(([, t]) => t.requiresGrad),
      info: { loss: o.loss, num_generations: o.numGenerations, beta: o.beta, temperature: o.temperature, max_new_tokens: o.maxNewTokens, init_from: o.initFrom, rewards: o.rewards.map((r) => r.name).join(', ') },
      saveModel: (dir) => saveModelFolder(dir, policy, { tokenizerDir: o.initFrom, dtype: saveDtypeOption(o.saveDtype) }),
      evaluate: o.evaluate ? () => o.evaluate!(policy, tokenizer) : undefined,
      step: async (indices, seed) => {
        const rand = mulberry32(mixSeed(seed, 7));
        const batch = [...indices].map((i) => o.prompts[i]);
        const promptIds = batch.map((p) => renderPrompt(p, rand() < o.thinkingRatio));
        const completions = sampleGroups(policy, promptIds, {
          numGenerations: o.numGenerations, maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, topK: o.topK, seed, eosTokenId: eos,
        });
        const texts = completions.map((c) => tokenizer.decode(c.ids, { skipSpecialTokens: true }));
        const scored = await scoreCompletions(o.rewards, completions.map((c, k) => ({ prompt: batch[c.prompt], completion: texts[k], completionIds: c.ids, finishReason: c.finishReason })));
        const advantages = groupAdvantages(scored.total, o.numGenerations);
        const packed = packRows(promptCompletionRows(promptIds, completions), pad);
        const old = scoreRows(policy, packed, true);
        const refScore = scoreRows(ref, packed);
        const r = scope(() => {
          const { logp, auxLoss } = policyLogprobs(policy, packed);
          const { loss, result } = hostLoss(logp, (v) =>
            grpoLoss({ R: packed.R, T: packed.L, logp: v, oldLogp: old.logp, refLogp: refScore.logp, mask: packed.mask }, advantages, { loss: o.loss, beta: o.beta, epsilon: o.epsilon, epsilonHigh: o.epsilonHigh }),
          );
          const total = auxLoss ? ops.add(loss, auxLoss) : loss;
          total.backward();
          return { loss: result.loss, stats: result.stats };
        });
        const tokens = packed.lengths.reduce((s, n) => s + n, 0);
        let entropy = 0;
        let trained = 0;
        for (let i = 0; i < packed.mask.length; i++) {
          entropy += old.entropy![i] * packed.mask[i];
          trained += packed.mask[i];
        }
        const logs: Record<string, number> = {
          loss: r.loss,
          reward: mean(scored.total),
          reward_std: std(scored.total),
          kl: r.stats.kl,
          clip_frac: r.stats.clipFraction,
          len: trained / completions.length,
          entropy: entropy / Math.max(trained, 1),
          stopped: completions.filter((c) => c.finishReason === 'stop').length / completions.length,
        };
        for (const [name, values] of Object.entries(scored.parts)) logs[`reward_${name}`] = mean(values);
        return { logs, tokens };
      },
    },
  );
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / Math.max(a.length, 1);
}

function std(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return Math.sqrt(s / Math.max(a.length, 1));
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
