// `minimind agent`: agentic RL with tools (MiniMind HEAD trainer/train_agent.py). Per step a
// batch of agent_rl prompts (conversation + tools + ground truth); G multi-turn rollouts of each
// (agent-rollout.ts: generate, call the mock tools, read their results, up to 3 turns); MiniMind's
// agent reward (tool-call gap, ground truth in the final answer, unfinished and tag penalties,
// repetition; rewards.ts); group-relative advantages; CISPO (default) or GRPO with β·k3-KL over
// the generated tokens only — tool observations are in the sequence but never trained.
import { RL_DEFAULTS, RL_LIMITS, type RlRunOptions } from './rl/options.js';
import { mockToolRegistry } from '../tools/mock.js';
import type { ToolRegistry } from '../tools/registry.js';
import { groupAdvantages, type PolicyLossType } from './rl/losses.js';
import { packRows } from './rl/rollout.js';
import { agentRollouts, trajectoryRow } from './rl/agent-rollout.js';
import { agentReward } from './rl/rewards.js';
import { UserError } from '../core/errors.js';
import { intOption } from './options.js';
import { resolveRl, checkGroupOptions, rankSlice, groupPolicyUpdate, groupsWithSignal, loadRlModels, mean, policyHooks, runRl, type RlSummary } from './rl/stage.js';

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
  ...RL_DEFAULTS,
  loss: 'cispo' as PolicyLossType,
  numGenerations: 4,
  maxTurns: 3,
  beta: 0.1,
  epsilon: 0.2,
  epsilonHigh: 5.0,
  maxNewTokens: 768,
  maxTotalLen: 2500,
  thinkingRatio: 0.1,
};

export async function agent(options: AgentOptions): Promise<RlSummary> {
  const { o, cfg } = resolveRl('agent', AGENT_DEFAULTS, options);
  checkGroupOptions(o);
  intOption(o, 'maxTurns', 1, 1, RL_LIMITS.maxTurns);
  intOption(o, 'maxTotalLen', 2, 2);
  const missing = o.prompts.find((p) => !p.gt);
  if (missing) throw new UserError(`agent: ${missing.source} has no "gt" (agent RL scores the final answer against it)`);
  const m = loadRlModels('agent', o);
  const registry = o.registry ?? mockToolRegistry();

  return runRl(cfg, o, {
    ...policyHooks(o, m),
    info: { loss: o.loss, num_generations: o.numGenerations, max_turns: o.maxTurns, beta: o.beta, temperature: o.temperature, init_from: o.initFrom, tools: registry.names.join(', ') },
    step: async (indices, { seed, dist }) => {
      // data parallel: this rank's prompts (their trajectories sampled as in one process)
      const { lo, hi, share } = rankSlice(indices.length, dist);
      const batch = [...indices.subarray(lo, hi)].map((i) => o.prompts[i]);
      const trajs = await agentRollouts(m.policy, m.tokenizer, registry, batch, {
        numGenerations: o.numGenerations, maxTurns: o.maxTurns, maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, topK: o.topK,
        thinkingRatio: o.thinkingRatio, seed, firstPrompt: lo, eosTokenId: m.eos, padTokenId: m.pad, maxTotalLen: o.maxTotalLen,
      });
      const parts = trajs.map((t) => {
        const p = batch[t.prompt];
        const offered = (p.tools ?? []).map((s) => ((s as { function?: { name?: string } }).function?.name ?? (s as { name?: string }).name ?? '')).filter(Boolean);
        return agentReward({ turns: t.turns, gt: p.gt!, offered, unfinished: t.unfinished, registry });
      });
      const rewards = parts.map((p) => p.total);
      const packed = packRows(trajs.map((t) => trajectoryRow(t, o.maxTotalLen)), m.pad);
      // the loss is a mean over the rows with a trained token: a rank's weight is its share of those
      const trained = trajs.filter((_, r) => packed.mask.subarray(r * packed.L, (r + 1) * packed.L).some((x) => x > 0)).length;
      const allTrained = dist ? (await dist.allReduce(Float64Array.of(trained)))[0] : trained;
      const weight = allTrained > 0 ? trained / allTrained : share;
      const r = groupPolicyUpdate(m, packed, groupAdvantages(rewards, o.numGenerations), { loss: o.loss, beta: o.beta, epsilon: o.epsilon, epsilonHigh: o.epsilonHigh, skipEmptyRows: true }, weight);
      const avg = (f: (i: number) => number) => mean(trajs.map((_, i) => f(i)));
      const logs: Record<string, number> = {
        loss: r.loss,
        reward: mean(rewards),
        kl: r.kl,
        clip_frac: r.clipFraction,
        len: r.len,
        entropy: r.entropy,
        tool_calls: avg((i) => parts[i].toolCalls),
        valid_calls: avg((i) => parts[i].validCalls),
        gt_share: avg((i) => parts[i].gtShare),
        turns: avg((i) => trajs[i].turns.length),
        unfinished: avg((i) => (trajs[i].unfinished ? 1 : 0)),
        varied_groups: groupsWithSignal(rewards, o.numGenerations),
      };
      for (const k of Object.keys(logs)) logs[k] *= k === 'loss' ? weight : share;
      return { tokens: packed.lengths.reduce((s, x) => s + x, 0), logs };
    },
  });
}
