// Tool-use evaluation (MiniMind's scripts/eval_toolcall.py, with a score): each prompt runs the
// full tool loop — generate, run every <tool_call>, feed the results back — until the model
// answers without calling a tool (at most maxTurns turns). With ground truth (agent_rl data) a
// prompt is correct when every gt item is in the final answer; tool use, valid calls (the tool
// was offered and its arguments pass MiniMind's check) and unfinished loops are counted too.
// Without data, MiniMind's own eight test prompts run and only the transcripts are reported.
import type { MiniMindForCausalLM } from '../../model/model.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';
import type { ChatMessage } from '../../tokenizer/chat.js';
import type { RlPrompt } from '../../data/rl.js';
import type { ToolRegistry } from '../../tools/registry.js';
import { parseToolCalls } from '../../tools/parse.js';
import { agentRollouts } from './agent-rollout.js';
import { gtFound } from './rewards.js';
import { answerText } from './reward-fns.js';

/** scripts/eval_toolcall.py TEST_CASES: a prompt and the tools offered with it. */
export const MINIMIND_TOOLCALL_CASES: { prompt: string; tools: string[] }[] = [
  { prompt: '帮我算一下 256 乘以 37 等于多少', tools: ['calculate_math', 'get_current_time'] },
  { prompt: '现在几点了？', tools: ['get_current_time', 'random_number'] },
  { prompt: '帮我把100公里换算成英里', tools: ['unit_converter', 'calculate_math'] },
  { prompt: '帮我生成一个1到1000的随机数，然后计算它的平方', tools: ['random_number', 'calculate_math', 'text_length'] },
  { prompt: '北京今天天气怎么样？', tools: ['get_current_weather', 'get_current_time'] },
  { prompt: '查一下美元兑人民币汇率', tools: ['get_exchange_rate', 'get_current_time'] },
  { prompt: "把'你好世界'翻译成英文", tools: ['translate_text', 'text_length'] },
  { prompt: 'What is the weather in Tokyo? Also convert 30 celsius to fahrenheit.', tools: ['get_current_weather', 'unit_converter', 'get_current_time'] },
];

export interface ToolcallResult {
  messages: ChatMessage[];
  finalAnswer: string;
  toolCalls: number;
  validCalls: number;
  unfinished: boolean;
  correct: boolean | null;
}

export interface ToolcallSummary {
  prompts: number;
  /** Share of prompts with gt whose final answer holds every item (null without gt). */
  accuracy: number | null;
  toolUse: number;
  validCallRate: number;
  unfinished: number;
  results: ToolcallResult[];
}

export interface ToolcallOptions {
  maxNewTokens?: number;
  maxTurns?: number;
  /** 0 = greedy (default); MiniMind's script samples at 0.9 with top-p 0.9. */
  temperature?: number;
  topP?: number;
  seed?: number;
}

export async function evaluateToolCalls(model: MiniMindForCausalLM, tok: Tokenizer, registry: ToolRegistry, prompts: RlPrompt[], o: ToolcallOptions = {}): Promise<ToolcallSummary> {
  const trajs = await agentRollouts(model, tok, registry, prompts, {
    numGenerations: 1, maxTurns: o.maxTurns ?? 8, maxNewTokens: o.maxNewTokens ?? 512, temperature: o.temperature ?? 0, topP: o.topP,
    thinkingRatio: 0, seed: o.seed ?? 0, eosTokenId: tok.eosTokenId ?? 2, padTokenId: tok.padTokenId ?? 0, maxTotalLen: Infinity,
  });
  const results = trajs.map((t, i): ToolcallResult => {
    const p = prompts[i];
    const offered = new Set((p.tools ?? []).map((s) => (s as { function?: { name?: string } }).function?.name ?? ''));
    const calls = t.turns.flatMap((x) => parseToolCalls(answerText(x)));
    const last = answerText(t.turns[t.turns.length - 1] ?? '').trim();
    const finalAnswer = t.unfinished ? '' : last.includes('</tool_call>') ? last.split('</tool_call>').pop()!.trim() : last;
    const correct = p.gt && p.gt.length ? gtFound(finalAnswer, p.gt).size === p.gt.length : null;
    return { messages: [...t.messages, ...(t.unfinished ? [] : [{ role: 'assistant', content: t.turns[t.turns.length - 1] ?? '' }])], finalAnswer, toolCalls: calls.length, validCalls: calls.filter((c) => registry.isValidCall(c, offered)).length, unfinished: t.unfinished, correct };
  });
  const scored = results.filter((r) => r.correct !== null);
  const calls = results.reduce((s, r) => s + r.toolCalls, 0);
  return {
    prompts: results.length,
    accuracy: scored.length ? scored.filter((r) => r.correct).length / scored.length : null,
    toolUse: results.filter((r) => r.toolCalls > 0).length / Math.max(results.length, 1),
    validCallRate: calls ? results.reduce((s, r) => s + r.validCalls, 0) / calls : 0,
    unfinished: results.filter((r) => r.unfinished).length / Math.max(results.length, 1),
    results,
  };
}

/** MiniMind's eight test prompts as RlPrompts (no ground truth: transcripts only). */
export function minimindToolcallPrompts(registry: ToolRegistry): RlPrompt[] {
  return MINIMIND_TOOLCALL_CASES.map((c, i) => ({ messages: [{ role: 'user', content: c.prompt }], tools: registry.schemas(c.tools), source: `eval_toolcall case ${i + 1}` }));
}
