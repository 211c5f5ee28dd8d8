// Turns one record into token ids plus a target mask, exactly as MiniMind's datasets do.
//   pretrain: ids = [bos] + encode(text)[:L-2] + [eos]; every real token is a target
//             (dataset/lm_dataset.py@HEAD PretrainDataset; padding is added at batching and
//             is never a target).
//   sft/dpo, 'all' turns (minimind2 / minimind-3): every assistant turn is supervised from after
//             `<bos>assistant\n` through `<eos>\n` — the content (think block and tool_call text
//             included), the end token and the newline after it (HEAD generate_labels).
//   sft, 'last' answer (v1 SFTDataset): only the last answer, from the '\n' right after the
//             last `<s>assistant` to the end of the sequence.
// The mask is in label coordinates: mask[j] = 1 means ids[j] is predicted from position j-1
// (the model shifts internally, like HF: logits[:, :-1] vs labels[:, 1:]).
import { ChatMessage, TokenizerLike, specialTokenString } from './tokenizer-like.js';
import { quoteUserText } from '../core/errors.js';

export interface EncodedSample {
  ids: Int32Array;
  /** 1 where ids[j] is a target; null means every token is a target (pretraining). */
  mask: Uint8Array | null;
}

export type SftMaskMode = 'all' | 'last';

/** Token sequences that open and close an assistant turn in the rendered chat template. */
export interface ChatMarkers {
  /** ids of `<bos>assistant\n` (spans start after it). */
  start: number[];
  /** ids of `<eos>\n` (spans end after it). */
  end: number[];
  /** ids of `<bos>assistant` (v1's last-answer mode starts right after it, at the '\n'). */
  lastAnswer: number[];
}

export function chatMarkers(tok: TokenizerLike): ChatMarkers {
  const bos = specialTokenString(tok, 'bos');
  const eos = specialTokenString(tok, 'eos');
  return { start: tok.encode(`${bos}assistant\n`), end: tok.encode(`${eos}\n`), lastAnswer: tok.encode(`${bos}assistant`) };
}

export function encodePretrain(tok: TokenizerLike, text: string, maxLength: number): EncodedSample {
  const body = tok.encode(text);
  const n = Math.min(body.length, maxLength - 2);
  const ids = new Int32Array(n + 2);
  ids[0] = tok.bosTokenId;
  for (let i = 0; i < n; i++) ids[i + 1] = body[i];
  ids[n + 1] = tok.eosTokenId;
  return { ids, mask: null };
}

function matchAt(ids: ArrayLike<number>, i: number, pat: number[]): boolean {
  if (i + pat.length > ids.length) return false;
  for (let k = 0; k < pat.length; k++) if (ids[i + k] !== pat[k]) return false;
  return true;
}

/** Every assistant turn: mask[j] = 1 for j in [after start marker, end marker + its length). */
export function assistantSpansMask(ids: ArrayLike<number>, markers: ChatMarkers): Uint8Array {
  const mask = new Uint8Array(ids.length);
  const { start: s, end: e } = markers;
  let i = 0;
  while (i < ids.length) {
    if (!matchAt(ids, i, s)) {
      i++;
      continue;
    }
    const start = i + s.length;
    let end = start;
    while (end < ids.length && !matchAt(ids, end, e)) end++;
    const stop = Math.min(end + e.length, ids.length); // a truncated turn is supervised to the end
    for (let j = start; j < stop; j++) mask[j] = 1;
    i = end < ids.length ? end + e.length : ids.length;
  }
  return mask;
}

/** v1: only the last answer, from the token after the last `<s>assistant` to the end. */
export function lastAnswerMask(ids: ArrayLike<number>, markers: ChatMarkers): Uint8Array {
  const mask = new Uint8Array(ids.length);
  let last = -1;
  for (let i = 0; i + markers.lastAnswer.length <= ids.length; i++) if (matchAt(ids, i, markers.lastAnswer)) last = i;
  if (last >= 0) for (let j = last + markers.lastAnswer.length; j < ids.length; j++) mask[j] = 1;
  return mask;
}

export interface SftEncodeOptions {
  mode?: SftMaskMode;
  /** Probability of removing the empty `<think>\n\n</think>\n\n` blocks (MiniMind HEAD: 0.8). */
  dropEmptyThinkRatio?: number;
  /** Probability of prepending a random system prompt when there is none (MiniMind HEAD: 0.2). */
  systemPromptRatio?: number;
  /** Source of randomness for the two augmentations above (seeded by the caller). */
  rand?: () => number;
}

// A few system prompts in MiniMind's style (two are MiniMind's own), used by systemPromptRatio.
export const SYSTEM_PROMPTS = [
  '你是minimind，一个小巧但有用的语言模型。',
  '你是一个乐于助人的人工智能助手。',
  '你是一个知识丰富的AI，请尽力回答用户的问题。',
  'You are a helpful AI assistant.',
  'You are minimind, a small but useful language model.',
  'You are a knowledgeable assistant. Answer the question as well as you can.',
];

const EMPTY_THINK = '<think>\n\n</think>\n\n';

/** Checks and normalises one `conversations` list; `where` names the record in errors. */
/** The roles MiniMind's chat templates render. */
const KNOWN_ROLES = new Set(['system', 'user', 'assistant', 'tool']);

export function toMessages(conv: unknown, where: string): ChatMessage[] {
  if (!Array.isArray(conv)) throw new Error(`${where}: 'conversations' must be a list of messages`);
  if (conv.length === 0) throw new Error(`${where}: empty conversation`);
  return conv.map((m, k) => {
    if (m === null || typeof m !== 'object') throw new Error(`${where}: message ${k} is not an object`);
    const msg = { ...(m as Record<string, unknown>) };
    // ShareGPT's {"from", "value"} would otherwise pass as role-less, content-less turns: training
    // on empty answers without a word of warning.
    if (msg.role === undefined && msg.content === undefined && ('from' in msg || 'value' in msg)) {
      throw new Error(`${where}: message ${k} uses ShareGPT keys ('from'/'value'); MiniMind's format is {"role": "user"|"assistant"|"system"|"tool", "content": ...}: rename the keys (human→user, gpt→assistant)`);
    }
    // m2-legacy data may omit roles: they alternate user/assistant.
    if (msg.role === undefined) msg.role = k % 2 === 0 ? 'user' : 'assistant';
    if (typeof msg.role !== 'string') throw new Error(`${where}: message ${k} has a non-string role`);
    if (!KNOWN_ROLES.has(msg.role)) throw new Error(`${where}: message ${k} has role '${quoteUserText(msg.role)}'; use one of ${[...KNOWN_ROLES].join(', ')}`);
    if (msg.content === undefined && msg.tool_calls === undefined && msg.reasoning_content === undefined) {
      throw new Error(`${where}: message ${k} (${quoteUserText(msg.role)}) has no 'content' (keys: ${quoteUserText(Object.keys(m as object).join(', ')) || 'none'})`);
    }
    if (msg.content === undefined || msg.content === null) msg.content = '';
    // A number or an object is not a message: rendering it as "123" or "[object Object]" would
    // train on text nobody wrote.
    if (typeof msg.content !== 'string') throw new Error(`${where}: message ${k} (${quoteUserText(msg.role)}) has ${Array.isArray(msg.content) ? 'a list' : `a ${typeof msg.content}`} as 'content' (${quoteUserText(JSON.stringify(msg.content), 40)}); it must be a string`);
    if (msg.reasoning_content !== undefined && msg.reasoning_content !== null && typeof msg.reasoning_content !== 'string') {
      throw new Error(`${where}: message ${k} (${quoteUserText(msg.role)}) has a non-string 'reasoning_content'; it must be a string`);
    }
    if (typeof msg.tool_calls === 'string' && msg.tool_calls !== '') {
      try {
        msg.tool_calls = JSON.parse(msg.tool_calls);
      } catch {
        throw new Error(`${where}: message ${k} has tool_calls that are not valid JSON`);
      }
    }
    return msg as ChatMessage;
  });
}

/** The tools a conversation offers: its system message's `tools` (a JSON string or a list), as the template takes them. */
export function toolsOf(messages: ChatMessage[]): unknown[] | undefined {
  const first = messages[0];
  if (first.role !== 'system' || first.tools === undefined || first.tools === null || first.tools === '') return undefined;
  const t = typeof first.tools === 'string' ? JSON.parse(first.tools) : first.tools;
  return Array.isArray(t) ? t : undefined;
}

/** Renders and tokenizes a conversation, truncates to maxLength, and builds the target mask. */
export function encodeChat(tok: TokenizerLike, messages: ChatMessage[], maxLength: number, markers: ChatMarkers, options: SftEncodeOptions = {}): EncodedSample {
  const rand = options.rand ?? Math.random;
  let msgs = messages;
  const tools = toolsOf(msgs);
  if (options.systemPromptRatio && !tools && msgs[0].role !== 'system' && rand() < options.systemPromptRatio) {
    msgs = [{ role: 'system', content: SYSTEM_PROMPTS[Math.floor(rand() * SYSTEM_PROMPTS.length)] }, ...msgs];
  }
  let text = tok.applyChatTemplate(msgs, { addGenerationPrompt: false, tools });
  if (options.dropEmptyThinkRatio && text.includes(EMPTY_THINK) && rand() < options.dropEmptyThinkRatio) text = text.split(EMPTY_THINK).join('');
  const all = tok.encode(text);
  const ids = Int32Array.from(all.length > maxLength ? all.slice(0, maxLength) : all);
  const mask = (options.mode ?? 'all') === 'last' ? lastAnswerMask(ids, markers) : assistantSpansMask(ids, markers);
  return { ids, mask };
}

/** v1's SFT csv row: history pairs (each side cut to maxLength/2 characters), then q and a. */
export function v1SftMessages(history: unknown, q: string, a: string, maxLength: number): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const half = Math.floor(maxLength / 2);
  if (Array.isArray(history)) {
    for (const pair of history) {
      if (!Array.isArray(pair) || pair.length <= 1) continue;
      messages.push({ role: 'user', content: String(pair[0]).slice(0, half) });
      messages.push({ role: 'assistant', content: String(pair[1]).slice(0, half) });
    }
  }
  messages.push({ role: 'user', content: q }, { role: 'assistant', content: a });
  return messages;
}

/** Number of target tokens in a sample (for skipping samples with nothing to learn). */
export function countTargets(s: EncodedSample): number {
  if (s.mask === null) return s.ids.length - 1;
  let n = 0;
  for (let j = 1; j < s.mask.length; j++) n += s.mask[j];
  return n;
}
