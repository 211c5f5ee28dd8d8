// `minimind agent`: agentic RL with tools (MiniMind HEAD trainer/train_agent.py). Per step a
// batch of agent_rl prompts (conversation + tools + ground truth); G multi-turn rollouts of each
// (agent-rollout.ts: generate, call the mock tools, read their results, up to 3 turns); MiniMind's
// agent reward (tool-call gap, ground truth in the final answer, unfinished and tag penalties,
// repetition; rewards.ts); group-relative advantages; CISPO (default) or GRPO with β·k3-KL over
// the generated tokens only — tool observations are in the sequence but never trained.
import type { RlRunOptions } from './rl/options.js';
import { scope } from '../core/scope.js';
import * as ops from '../ops/index.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { mockToolRegistry } from '../tools/mock.js';
import type { ToolRegistry } from '../tools/registry.js';
import { loadModelFolder, saveModelFolder } from '../formats/hf-folder.js';
import { loadFrozenModel } from './common.js';
import { groupAdvantages, grpoLoss, type PolicyLossType } from './rl/losses.js';
import { hostLoss } from './rl/policy-loss.js';
import { packRows, policyLogprobs, scoreRows } from './rl/rollout.js';
import { agentRollouts, trajectoryRow } from './rl/agent-rollout.js';
import { agentReward } from './rl/rewards.js';
import { saveDtypeOption } from './options.js';
import { rlLoop, type RlSummary } from './rl/loop.js';

export interface AgentOptions extends RlRunOptions {
  /** Runs the calls (default: MiniMind's mock tools). */
  registry?: ToolRegistry;
  loss?: PolicyLossType;
  numGenerations?: number;
  maxTurns?: number;
  beta?: number;
  epsilon?: number;
  epsilonHigh?: number;
  maxNewTokens?: number;
  maxTotalLen?: number;
}

/** MiniMind train_agent.py defaults. */
export const AGENT_DEFAULTS = {
  loss: 'cispo' as PolicyLossType,
  numGenerations: 4,
  maxTurns: 3,
  beta: 0.1,
  epsilon: 0.2,
  epsilonHigh: 5.0,
  maxNewTokens: 768,
  maxTotalLen: 2500,
  temperature: 0.8,
  topP: 0.85,
  topK: 50,
  thinkingRatio: 0.1,
  batchSize: 2,
  epochs: 1,
  learningRate: 3e-7,
  weightDecay: 0.01,
  gradClip: 1.0,
  logInterval: 1,
  saveInterval: 10,
  seed: 42,
};

export async function agent(options: AgentOptions): Promise<RlSummary> {
  const o = { ...AGENT_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof AGENT_DEFAULTS & AgentOptions;
  saveDtypeOption(o.saveDtype); // a bad value fails now, not at the first save
  if (!Number.isInteger(o.numGenerations) || o.numGenerations < 2) throw new Error(`agent: numGenerations must be ≥ 2, got ${o.numGenerations}`);
  const missing = o.prompts.find((p) => !p.gt);
  if (missing) throw new Error(`agent: ${missing.source} has no "gt" (agent RL scores the final answer against it)`);
  const tokenizer = Tokenizer.load(o.initFrom);
  const eos = tokenizer.eosTokenId;
  if (eos === undefined) throw new Error(`agent: ${o.initFrom}: the tokenizer has no eos_token`);
  const pad = tokenizer.padTokenId ?? 0;
  const registry = o.registry ?? mockToolRegistry();
  const policy = loadModelFolder(o.initFrom).model;
  policy.train();
  const ref = loadFrozenModel(o.initFrom);

  return rlLoop(
    {
      stage: 'agent', outDir: o.out, prompts: o.prompts.length, batchSize: o.batchSize, epochs: o.epochs, maxSteps: o.maxSteps,
      lr: o.learningRate, weightDecay: o.weightDecay, gradClip: o.gradClip, logInterval: o.logInterval, saveInterval: o.saveInterval,
      evalInterval: o.evaluate ? (o.evalInterval ?? 10) : 0, seed: o.seed, resume: !!o.resume, stopAfterSteps: o.stopAfterSteps, quiet: !!o.quiet, signal: options.signal,
    },
    {
      params: policy.namedParameters().filter(([, t]) => t.requiresGrad),
      info: { loss: o.loss, num_generations: o.numGenerations, max_turns: o.maxTurns, beta: o.beta, temperature: o.temperature, init_from: o.initFrom, tools: registry.names.join(', ') },
      saveModel: (dir) => saveModelFolder(dir, policy, { tokenizerDir: o.initFrom, dtype: saveDtypeOption(o.saveDtype) }),
      evaluate: o.evaluate ? () => o.evaluate!(policy, tokenizer) : undefined,
      step: async (indices, seed) => {
        const batch = [...indices].map((i) => o.prompts[i]);
        const trajs = await agentRollouts(policy, tokenizer, registry, batch, {
          numGenerations: o.numGenerations, maxTurns: o.maxTurns, maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, topK: o.topK,
          thinkingRatio: o.thinkingRatio, seed, eosTokenId: eos, padTokenId: pad, maxTotalLen: o.maxTotalLen,
        });
        const parts = trajs.map((t) => {
          const p = batch[t.prompt];
          const offered = (p.tools ?? []).map((s) => ((s as { function?: { name?: string } }).function?.name ?? (s as { name?: string }).name ?? '')).filter(Boolean);
          return agentReward({ turns: t.turns, gt: p.gt!, offered, unfinished: t.unfinished, registry });
        });
        const rewards = parts.map((p) => p.total);
        const advantages = groupAdvantages(rewards, o.numGenerations);
        const packed = packRows(trajs.map((t) => trajectoryRow(t, o.maxTotalLen)), pad);
        const old = scoreRows(policy, packed, true);
        const refScore = scoreRows(ref, packed);
        const r = scope(() => {
          const { logp, auxLoss } = policyLogprobs(policy, packed);
          const { loss, result } = hostLoss(logp, (v) =>
            grpoLoss({ R: packed.R, T: packed.L, logp: v, oldLogp: old.logp, refLogp: refScore.logp, mask: packed.mask }, advantages, { loss: o.loss, beta: o.beta, epsilon: o.epsilon, epsilonHigh: o.epsilonHigh, skipEmptyRows: true }),
          );
          const total = auxLoss ? ops.add(loss, auxLoss) : loss;
          total.backward();
          return { loss: result.loss, stats: result.stats };
        });
        let entropy = 0;
        let trained = 0;
        for (let i = 0; i < packed.mask.length; i++) {
          entropy += old.entropy![i] * packed.mask[i];
          trained += packed.mask[i];
        }
        const n = trajs.length;
        const avg = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i)).reduce((s, x) => s + x, 0) / n;
        return {
          tokens: packed.lengths.reduce((s, x) => s + x, 0),
          logs: {
            loss: r.loss,
            reward: avg((i) => rewards[i]),
            kl: r.stats.kl,
            clip_frac: r.stats.clipFraction,
            len: trained / n,
            entropy: entropy / Math.max(trained, 1),
            tool_calls: avg((i) => parts[i].toolCalls),
            valid_calls: avg((i) => parts[i].validCalls),
            gt_share: avg((i) => parts[i].gtShare),
            turns: avg((i) => trajs[i].turns.length),
            unfinished: avg((i) => (trajs[i].unfinished ? 1 : 0)),
          },
        };
      },
    },
  );
}
