// Held-out evaluation for RL runs: greedy answers to prompts with ground truth, scored as
// MiniMind's agent task scores a final answer (every gt item found: substring, or a number
// within 1e-6). The share answered correctly is the curve an RL run should raise.
import { generateBatch } from '../../model/batch-generate.js';
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { RlPrompt } from '../../data/rl.js';
import { gtFound } from './rewards.js';
import { answerText } from './reward-fns.js';

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
