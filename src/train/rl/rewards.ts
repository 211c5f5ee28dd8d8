// MiniMind's rule rewards, exactly (trainer/train_grpo.py calculate_rewards and
// trainer/train_agent.py calculate_rewards; docs/minimind.md 5.4). Lengths are Python's: code points of
// the stripped text. A reward model's score, when there is one, is added by the caller.
import { parseToolCalls, unbalancedToolTags } from '../../tools/parse.js';
import type { ToolRegistry } from '../../tools/registry.js';

/** len(s) in Python: code points, not UTF-16 units. */
const pyLen = (s: string): number => [...s].length;
/** Python's str.strip() (Unicode whitespace). */
const strip = (s: string): string => s.replace(/^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/gu, '');

// Python's `\w+|[^\w\s]` on str: \w = Unicode letters, digits (any numeric) and '_'.
const WORD_OR_PUNCT = /[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu;

/**
 * rep_penalty(text, n=3, cap=0.5): the share of repeated word 3-grams, scaled so that half of them
 * repeated costs the full cap: min(cap, (#grams − #distinct)·cap·2/#grams); 0 with no 3-gram.
 */
export function repPenalty(text: string, n = 3, cap = 0.5): number {
  const toks = text.toLowerCase().match(WORD_OR_PUNCT) ?? [];
  const grams: string[] = [];
  for (let i = 0; i + n <= toks.length; i++) grams.push(toks.slice(i, i + n).join('\u0000'));
  if (grams.length === 0) return 0;
  return Math.min(cap, ((grams.length - new Set(grams).size) * cap * 2) / grams.length);
}

export interface RewardParts {
  total: number;
  length: number;
  think: number;
  repetition: number;
}

/**
 * GRPO / PPO rule reward of one response (train_grpo.py): +0.5 if 20 ≤ len ≤ 800 else −0.5;
 * with `</think>`: +1.0 if 20 ≤ len(think) ≤ 300 else −0.5, +0.25 if exactly one `</think>` else
 * −0.25, and the answer is the text after the first `</think>`; − rep_penalty(answer).
 */
export function thinkRuleReward(response: string): RewardParts {
  const length = inRange(pyLen(strip(response)), 20, 800) ? 0.5 : -0.5;
  let think = 0;
  let answer = response;
  const cut = response.indexOf('</think>');
  if (cut !== -1) {
    think += inRange(pyLen(strip(response.slice(0, cut))), 20, 300) ? 1.0 : -0.5;
    think += response.split('</think>').length - 1 === 1 ? 0.25 : -0.25;
    answer = strip(response.slice(cut + '</think>'.length));
  }
  const repetition = -repPenalty(answer);
  return { total: length + think + repetition, length, think, repetition };
}

function inRange(x: number, lo: number, hi: number): boolean {
  return x >= lo && x <= hi;
}

// ---- ground truth (the agent task) ----

const NUMBER = /(?<![\p{L}\p{N}_.])[-+]?\d+(?:\.\d+)?(?![\p{L}\p{N}_.])/gu;
const NUMERIC_GT = /^[-+]?\d+(?:\.\d+)?$/;

/** str(g) for a ground-truth item read from JSON (JSON numbers lose "3.0" vs "3": both print as "3"). */
export function gtString(g: unknown): string {
  return typeof g === 'string' ? g : typeof g === 'number' || typeof g === 'boolean' ? (typeof g === 'boolean' ? (g ? 'True' : 'False') : String(g)) : JSON.stringify(g);
}

/**
 * validate_gt_in_text: the ground-truth items found in `text`, by case-insensitive substring, or
 * for a numeric item by any number in the text (commas removed) within 1e-6.
 */
export function gtFound(text: string, gt: unknown[]): Set<number> {
  const nums = (text.replace(/,/g, '').match(NUMBER) ?? []).map(Number);
  const lower = text.toLowerCase();
  const found = new Set<number>();
  gt.forEach((g, i) => {
    const s = strip(gtString(g));
    if (s && lower.includes(s.toLowerCase())) found.add(i);
    else {
      const n = s.replace(/,/g, '');
      if (NUMERIC_GT.test(n) && nums.some((x) => Math.abs(Number(n) - x) < 1e-6)) found.add(i);
    }
  });
  return found;
}

/** Ground-truth reward for a plain task (GRPO with `gt`): 1 if every item is in the answer text, else the found share. */
export function gtReward(answer: string, gt: unknown[]): number {
  if (gt.length === 0) return 0;
  return gtFound(answer, gt).size / gt.length;
}

// ---- agent RL (train_agent.py) ----

export interface AgentRewardInput {
  /** The text generated in each turn. */
  turns: string[];
  /** Ground truth for the final answer. */
  gt: unknown[];
  /** Names of the tools offered to the model in the prompt. */
  offered: string[];
  /** True when the rollout hit the turn limit while still calling tools. */
  unfinished: boolean;
  registry: ToolRegistry;
  /** A reward model's score of the final answer (no-tool branch only). */
  rmScore?: number;
}

export interface AgentRewardParts {
  total: number;
  toolCalls: number;
  validCalls: number;
  /** gt items found in the final text / len(gt) (0 without tool calls). */
  gtShare: number;
}

/**
 * MiniMind's agent reward, clipped to ±3: −0.5 per unbalanced <tool_call> tag over all turns;
 * no tool call → length (5…800 chars) ±0.5, think rules, + RM score, − rep_penalty;
 * tool calls → tool_gap = |valid − len(gt)| + (calls − valid), +0.5 if 0 else −0.5·gap,
 * +2.5·found/len(gt) over the text after the last </tool_call> of the final turn (empty when
 * unfinished), −0.5 if unfinished, − rep_penalty.
 */
export function agentReward(x: AgentRewardInput): AgentRewardParts {
  const answers = x.turns.map((t) => (t.includes('</think>') ? strip(t.split('</think>').slice(1).join('</think>')) : strip(t)));
  const response = x.turns.length ? x.turns[x.turns.length - 1] : '';
  let answer = answers.length ? answers[answers.length - 1] : strip(response);
  const calls = answers.flatMap(parseToolCalls);
  let reward = -0.5 * answers.reduce((s, a) => s + unbalancedToolTags(a), 0);
  if (calls.length === 0) {
    reward += inRange(pyLen(strip(response)), 5, 800) ? 0.5 : -0.5;
    const cut = response.indexOf('</think>');
    if (cut !== -1) {
      reward += inRange(pyLen(strip(response.slice(0, cut))), 20, 300) ? 1.0 : -0.5;
      reward += response.split('</think>').length - 1 === 1 ? 0.25 : -0.25;
      answer = strip(response.slice(cut + '</think>'.length));
    }
    reward += x.rmScore ?? 0;
    reward -= repPenalty(answer);
    return { total: clip3(reward), toolCalls: 0, validCalls: 0, gtShare: 0 };
  }
  const offered = new Set(x.offered);
  const valid = calls.filter((c) => x.registry.isValidCall(c, offered)).length;
  const gap = Math.abs(valid - x.gt.length) + Math.max(0, calls.length - valid);
  reward += gap === 0 ? 0.5 : -0.5 * gap;
  const finalText = x.unfinished ? '' : answer.includes('</tool_call>') ? answer.split('</tool_call>').pop()! : answer;
  const share = x.gt.length ? gtFound(finalText, x.gt).size / x.gt.length : 0;
  reward += 2.5 * share;
  if (x.unfinished) reward -= 0.5;
  reward -= repPenalty(finalText ? finalText : answer);
  return { total: clip3(reward), toolCalls: calls.length, validCalls: valid, gtShare: share };
}

function clip3(r: number): number {
  return Math.max(-3, Math.min(3, r));
}
