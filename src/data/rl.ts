// The prompt datasets of reinforcement learning (MiniMind HEAD dataset/lm_dataset.py):
//   RLAIF    {"conversations": [..., {"role": "assistant", "content": "无"}]}: the prompt is every
//            message but the final assistant one (whose content is ignored); an optional "gt"
//            (a list, or one value) is the ground truth a task reward may check.
//   agent_rl {"conversations": [...], "gt": [...]}: the same prompt, the tools offered by the
//            system message's "tools" (a JSON string or a list), and the ground truth the final
//            answer must contain.
// Both are read whole (prompt sets are small) with clear `file:line: what is wrong` errors.
import type { ChatMessage } from '../tokenizer/chat.js';
import type { ChatMessage as DataMessage } from './tokenizer-like.js';
import { DataError, readJsonl } from './jsonl.js';
import { toMessages } from './encode.js';

export interface RlPrompt {
  /** The conversation up to the turn the model answers. */
  messages: ChatMessage[];
  /** Tools offered (OpenAI function schemas), when the system message lists any. */
  tools?: unknown[];
  /** Ground truth for task rewards (agent_rl: required). */
  gt?: unknown[];
  /** Where it came from, for error messages. */
  source: string;
}

export interface ReadRlOptions {
  skipBadLines?: boolean;
  onBadLine?: (file: string, line: number, reason: string) => void;
}

/** RLAIF prompts (GRPO / PPO). */
export async function readRlaif(files: string[], opts: ReadRlOptions = {}): Promise<RlPrompt[]> {
  return readPrompts(files, false, opts);
}

/** agent_rl prompts: tools and ground truth (agent RL). */
export async function readAgentRl(files: string[], opts: ReadRlOptions = {}): Promise<RlPrompt[]> {
  return readPrompts(files, true, opts);
}

async function readPrompts(files: string[], agent: boolean, opts: ReadRlOptions): Promise<RlPrompt[]> {
  const out: RlPrompt[] = [];
  for (const file of files) {
    for await (const { value, line } of readJsonl(file, opts)) {
      try {
        out.push(parseRecord(value, `${file}:${line}`, agent));
      } catch (e) {
        const what = (e as Error).message;
        if (!opts.skipBadLines) throw new DataError(file, line, what);
        opts.onBadLine?.(file, line, what);
      }
    }
  }
  if (out.length === 0) throw new Error(`no prompts in ${files.join(', ')}`);
  return out;
}

function parseRecord(value: Record<string, unknown>, source: string, agent: boolean): RlPrompt {
  if (!('conversations' in value)) {
    throw new Error(`no 'conversations' field (${agent ? 'agent_rl' : 'RLAIF'} format: {"conversations": [{"role": "user", "content": ...}, ...]${agent ? ', "gt": [...]' : ''}})`);
  }
  let messages: ChatMessage[];
  try {
    messages = toMessages(value.conversations, 'conversations') as DataMessage[] as ChatMessage[];
  } catch (e) {
    throw new Error((e as Error).message);
  }
  // MiniMind drops the last message (the assistant turn to be generated). A prompt-only record
  // (ending in a user or tool turn) is kept whole.
  if (messages[messages.length - 1].role === 'assistant') messages = messages.slice(0, -1);
  if (!messages.some((m) => m.role === 'user')) throw new Error('the prompt has no user message');
  const tools = toolsOf(messages[0]);
  let gt: unknown[] | undefined;
  if (value.gt !== undefined && value.gt !== null) gt = Array.isArray(value.gt) ? value.gt : [value.gt];
  if (agent && gt === undefined) throw new Error(`no 'gt' field (agent_rl needs the ground truth: "gt": ["42"])`);
  return { messages, ...(tools ? { tools } : {}), ...(gt ? { gt } : {}), source };
}

function toolsOf(first: ChatMessage): unknown[] | undefined {
  if (first.role !== 'system' || first.tools === undefined || first.tools === null || first.tools === '') return undefined;
  let t = first.tools;
  if (typeof t === 'string') {
    try {
      t = JSON.parse(t);
    } catch {
      throw new Error(`the system message's 'tools' is not valid JSON`);
    }
  }
  if (!Array.isArray(t)) throw new Error(`the system message's 'tools' must be a list of function schemas`);
  return t;
}
