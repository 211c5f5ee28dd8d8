// `minimind grpo`: group-relative policy optimisation (MiniMind HEAD trainer/train_grpo.py).
// Per step: a batch of prompts; G samples of each from the policy (temperature 0.8, top-p 0.85,
// top-k 50); a reward per sample (rule rewards, ground truth, or any function); advantages
// relative to the sample's group, A = (r − mean) / (std + 1e-4); old log-probs from the policy
// and reference log-probs from the frozen starting model, both recomputed without gradients;
// then one update with the CISPO (default) or GRPO loss plus β·k3-KL (losses.ts).
//
//   const summary = await grpo({ initFrom: 'runs/sft/model', prompts, out: 'runs/grpo', rewards: [ruleReward] });
import { RL_DEFAULTS, type RlRunOptions } from './rl/options.js';
import { mulberry32, mixSeed } from '../data/rng.js';
import { groupAdvantages, type PolicyLossType } from './rl/losses.js';
import { packRows, promptCompletionRows } from './rl/rollout.js';
import { UserError } from '../core/errors.js';
import type { RewardFunction } from './rl/reward-fns.js';
import { resolveRl, checkGroupOptions, rankSlice, groupPolicyUpdate, groupsWithSignal, loadRlModels, mean, policyHooks, promptRenderer, runRl, sampleAndScore, std, type RlSummary } from './rl/stage.js';

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
  ...RL_DEFAULTS,
  loss: 'cispo' as PolicyLossType,
  numGenerations: 6,
  beta: 0.1,
  epsilon: 0.2,
  epsilonHigh: 5.0,
  maxNewTokens: 1024,
  maxSeqLen: 768,
  thinkingRatio: 0.9,
};

export async function grpo(options: GrpoOptions): Promise<RlSummary> {
  const { o, cfg } = resolveRl('grpo', GRPO_DEFAULTS, options);
  if (o.rewards.length === 0) throw new UserError('grpo: give at least one reward function');
  checkGroupOptions(o);
  const m = loadRlModels('grpo', o);
  const renderPrompt = promptRenderer(m, o.maxSeqLen);

  return runRl(cfg, o, {
    ...policyHooks(o, m),
    info: { loss: o.loss, num_generations: o.numGenerations, beta: o.beta, temperature: o.temperature, max_new_tokens: o.maxNewTokens, init_from: o.initFrom, rewards: o.rewards.map((r) => r.name).join(', ') },
    step: async (indices, { seed, dist }) => {
      const rand = mulberry32(mixSeed(seed, 7));
      const all = [...indices].map((i) => o.prompts[i]);
      const allIds = all.map((p) => renderPrompt(p, rand() < o.thinkingRatio));
      // data parallel: this rank's prompts; its loss and logs weighted by its share (summed over the ranks)
      const { lo, hi, share } = rankSlice(all.length, dist);
      const batch = all.slice(lo, hi);
      const promptIds = allIds.slice(lo, hi);
      const { completions, total, parts } = await sampleAndScore(m, batch, promptIds, o.rewards, { ...o, seed, firstPrompt: lo });
      const packed = packRows(promptCompletionRows(promptIds, completions), m.pad);
      const r = groupPolicyUpdate(m, packed, groupAdvantages(total, o.numGenerations), { loss: o.loss, beta: o.beta, epsilon: o.epsilon, epsilonHigh: o.epsilonHigh }, share);
      const logs: Record<string, number> = {
        loss: r.loss,
        reward: mean(total),
        reward_std: std(total), // (under launch: the mean of the ranks' standard deviations)
        kl: r.kl,
        clip_frac: r.clipFraction,
        len: r.len,
        entropy: r.entropy,
        stopped: completions.filter((c) => c.finishReason === 'stop').length / completions.length,
        varied_groups: groupsWithSignal(total, o.numGenerations),
      };
      for (const [name, values] of Object.entries(parts)) logs[`reward_${name}`] = mean(values);
      for (const k of Object.keys(logs)) logs[k] *= share;
      return { logs, tokens: packed.lengths.reduce((s, n) => s + n, 0) };
    },
  });
}
