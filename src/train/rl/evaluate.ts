// Held-out evaluation for RL runs: greedy answers to prompts with ground truth, scored as
// MiniMind's agent task scores a final answer (every gt item found: substring, or a number
// within 1e-6). The share answered correctly is the curve an RL run should raise.
import { generateBatch } from '../../model/batch-generate.js';
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { RlPrompt } from '../../data/rl.js';
import { gtFound } from './rewards.js';
import { answerText } from './reward-fns.js';
import { agentRollouts } from './agent-rollout.js';
import type { ToolRegistry } from '../../tools/registry.js';

export function gtAccuracyEvaluator(prompts: RlPrompt[], o: { maxNewTokens: number }) {
  return (policy: MiniMindForCausalLM, tok: Tokenizer): Record<string, number> => {
    const ids = prompts.map((p) => tok.encode(tok.applyChatTemplate(p.messages, { addGenerationPrompt: true, openThinking: false, ...(p.tools ? { tools: p.tools } : {}) })));
    const out = generateBatch(policy, ids, { maxNewTokens: o.maxNewTokens, temperature: 0, tokenizer: tok, stopTokenIds: tok.eosTokenId !== undefined ? [tok.eosTokenId] : undefined });
    let correct = 0;
    out.forEach((r, i) => {
      const gt = prompts[i].gt ?? [];
      if (gt.length && gtFound(answerText(r.text ?? ''), gt).size === gt.length) correct++;
    });
    return { accuracy: correct / prompts.length };
  };
}

/**
 * Agent evaluation: the full tool loop, greedy, one rollout per prompt; a prompt counts as
 * correct when every gt item is in the final answer (the text after the last </tool_call> of the
 * last turn, as MiniMind's agent reward reads it) and the rollout finished within maxTurns.
 */
export function agentAccuracyEvaluator(prompts: RlPrompt[], registry: ToolRegistry, o: { maxNewTokens: number; maxTurns?: number }) {
  return async (policy: MiniMindForCausalLM, tok: Tokenizer): Promise<Record<string, number>> => {
    const trajs = await agentRollouts(policy, tok, registry, prompts, {
      numGenerations: 1, maxTurns: o.maxTurns ?? 3, maxNewTokens: o.maxNewTokens, temperature: 0, thinkingRatio: 0, seed: 0,
      eosTokenId: tok.eosTokenId ?? 2, padTokenId: tok.padTokenId ?? 0, maxTotalLen: Infinity,
    });
    let correct = 0;
    let usedTool = 0;
    trajs.forEach((t, i) => {
      const last = t.turns[t.turns.length - 1] ?? '';
      const answer = answerText(last);
      const final = t.unfinished ? '' : answer.includes('</tool_call>') ? answer.split('</tool_call>').pop()! : answer;
      const gt = prompts[i].gt ?? [];
      if (gt.length && gtFound(final, gt).size === gt.length) correct++;
      if (t.toolCalls > 0) usedTool++;
    });
    return { accuracy: correct / prompts.length, tool_use: usedTool / prompts.length };
  };
}
