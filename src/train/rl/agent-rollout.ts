// Multi-turn tool rollouts for agent RL (MiniMind HEAD train_agent.py rollout_single), batched:
// every turn, all unfinished trajectories generate together in one ragged batch.
//   turn: render the conversation with its tools (+ generation prompt) -> generate (pad and
//   end-of-turn tokens dropped, as MiniMind does) -> parse <tool_call> blocks -> none: done;
//   else run each call (registry: timeout, 2,048-character cut) and append the assistant and
//   tool messages, then re-render: the new tokens beyond prompt + response so far are the
//   observation, appended with mask 0 (never trained). At most maxTurns turns; a trajectory still
//   calling tools after the last turn is "unfinished" (its re-render has no generation prompt).
// The training row is prompt + responses/observations, cut to its last maxTotalLen tokens.
import type { ChatMessage } from '../../tokenizer/chat.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { MiniMindForCausalLM } from '../../model/model.js';
import { sampleStreams } from './rollout.js';
import { mixSeed, mulberry32 } from '../../data/rng.js';
import type { RlPrompt } from '../../data/rl.js';
import { parseToolCalls } from '../../tools/parse.js';
import type { ToolRegistry } from '../../tools/registry.js';
import type { RowSpec } from './rollout.js';

export interface AgentRolloutOptions {
  numGenerations: number;
  maxTurns: number;
  maxNewTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  thinkingRatio: number;
  seed: number;
  /** Index of prompts[0] in the step's whole batch (a data-parallel rank's slice) [0]. */
  firstPrompt?: number;
  eosTokenId: number;
  padTokenId: number;
  maxTotalLen: number;
  /** Replaces the policy's sampling (tests script the model's turns): contexts -> new ids per context. */
  generate?: (contexts: number[][], turn: number) => number[][];
}

export interface AgentTrajectory {
  /** Index of its prompt in the batch. */
  prompt: number;
  promptIds: number[];
  /** Generated tokens and observation tokens after the prompt. */
  responseIds: number[];
  /** 1 = generated (trained), 0 = observation. */
  responseMask: number[];
  /** The text generated in each turn. */
  turns: string[];
  unfinished: boolean;
  toolCalls: number;
  /** Re-renders whose token prefix differed from prompt + response (the observation slice is then MiniMind's approximation). */
  prefixMismatches: number;
  messages: ChatMessage[];
}

export async function agentRollouts(policy: MiniMindForCausalLM, tok: Tokenizer, registry: ToolRegistry, prompts: RlPrompt[], o: AgentRolloutOptions): Promise<AgentTrajectory[]> {
  const rand = mulberry32(mixSeed(o.seed, 11));
  // trajectory j of prompt i is number (firstPrompt + i)·G + j of the step: its thinking draw and
  // its random stream in every turn, whichever rank samples it and whichever others are still going
  const first = (o.firstPrompt ?? 0) * o.numGenerations;
  for (let k = 0; k < first; k++) rand();
  const trajs: (AgentTrajectory & { openThinking: boolean; tools?: unknown[]; done: boolean; stream: number })[] = [];
  prompts.forEach((p, i) => {
    for (let j = 0; j < o.numGenerations; j++) {
      trajs.push({ prompt: i, promptIds: [], responseIds: [], responseMask: [], turns: [], unfinished: false, toolCalls: 0, prefixMismatches: 0, messages: p.messages.map((m) => ({ ...m })), openThinking: rand() < o.thinkingRatio, tools: p.tools, done: false, stream: first + trajs.length });
    }
  });
  const render = (t: (typeof trajs)[number], addGenerationPrompt: boolean) =>
    tok.encode(tok.applyChatTemplate(t.messages, { addGenerationPrompt, openThinking: t.openThinking, ...(t.tools ? { tools: t.tools } : {}) }));
  for (let turn = 0; turn < o.maxTurns; turn++) {
    const active = trajs.filter((t) => !t.done);
    if (active.length === 0) break;
    const contexts = active.map((t) => render(t, true));
    active.forEach((t, k) => {
      if (turn === 0) t.promptIds = contexts[k];
    });
    const outs = o.generate
      ? o.generate(contexts, turn)
      : sampleStreams(policy, contexts.map((ids, k) => ({ ids, n: 1, firstStream: active[k].stream })), { maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, topK: o.topK, seed: mixSeed(o.seed, turn), stopTokenIds: [o.eosTokenId] }).map((r) => r.ids);
    for (let k = 0; k < active.length; k++) {
      const t = active[k];
      const ids = outs[k].filter((id) => id !== o.padTokenId && id !== o.eosTokenId);
      const text = tok.decode(ids, { skipSpecialTokens: true });
      t.turns.push(text);
      t.responseIds.push(...ids);
      t.responseMask.push(...ids.map(() => 1));
      const calls = parseToolCalls(text);
      if (calls.length === 0) {
        t.done = true;
        continue;
      }
      t.toolCalls += calls.length;
      t.unfinished = turn === o.maxTurns - 1;
      t.messages.push({ role: 'assistant', content: text });
      for (const call of calls) t.messages.push({ role: 'tool', content: (await registry.run(call)).content });
      const observed = render(t, !t.unfinished);
      const current = t.promptIds.length + t.responseIds.length;
      const soFar = [...t.promptIds, ...t.responseIds];
      if (observed.length < current || soFar.some((id, i) => observed[i] !== id)) t.prefixMismatches++;
      const delta = observed.slice(current);
      t.responseIds.push(...delta);
      t.responseMask.push(...delta.map(() => 0));
      if (t.unfinished) t.done = true;
    }
  }
  return trajs.map(({ openThinking: _o, tools: _t, done: _d, stream: _s, ...rest }) => rest);
}

/** The training row of a trajectory: prompt (mask 0) + response (generated 1, observations 0), last maxTotalLen tokens. */
export function trajectoryRow(t: AgentTrajectory, maxTotalLen: number): RowSpec {
  let ids = [...t.promptIds, ...t.responseIds];
  let trained = [...t.promptIds.map(() => 0), ...t.responseMask];
  if (ids.length > maxTotalLen) {
    ids = ids.slice(ids.length - maxTotalLen);
    trained = trained.slice(trained.length - maxTotalLen);
  }
  return { ids, trained };
}
