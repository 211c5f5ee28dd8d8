// What a record is, and its text. The data commands meet MiniMind's own schemas and the common
// chat-data formats; each is recognised by its fields:
//   text          {"text": ...}                                    MiniMind pretrain
//   conversations {"conversations": [{"role", "content"}]}         MiniMind SFT / RLAIF
//   sharegpt      {"conversations"|"messages": [{"from", "value"}], "system"?, "tools"?}
//                 (LLaMA-Factory: function_call turns hold a JSON call, observation turns its result)
//   openai        {"messages": [{"role", "content", "tool_calls"?}], "tools"?}   (content may be a list of parts)
//   alpaca        {"instruction", "input"?, "output", "system"?, "history"?}   (also LLaMA-Factory's)
//   v1-sft        {"history", "q", "a"}                              MiniMind v1 csv
//   dpo           {"chosen", "rejected"} (+ a prompt: "conversations", "instruction"/"input" or "prompt")
// chatOf turns any chat-shaped record into MiniMind messages, tool use in MiniMind's form (the
// offered tools as a JSON string on the system message, an assistant's calls as a JSON string in
// tool_calls, results as tool messages); textOf gives the text that the statistics, filters and
// deduplication look at.
import { parsePythonLiteral } from '../data/csv.js';

export type RecordKind = 'text' | 'conversations' | 'sharegpt' | 'openai' | 'alpaca' | 'v1-sft' | 'dpo' | 'unknown';

export interface Message {
  role: string;
  content: string;
  [key: string]: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function kindOf(v: Record<string, unknown>): RecordKind {
  if ('chosen' in v && 'rejected' in v) return 'dpo';
  if (typeof v.text === 'string') return 'text';
  const turns = (Array.isArray(v.conversations) ? v.conversations : Array.isArray(v.messages) ? v.messages : null) as unknown[] | null;
  if (turns) {
    const first = turns.find(isObj);
    if (first && 'from' in first) return 'sharegpt';
    return Array.isArray(v.conversations) ? 'conversations' : 'openai';
  }
  if (typeof v.instruction === 'string' && 'output' in v) return 'alpaca';
  if ('q' in v && 'a' in v) return 'v1-sft';
  return 'unknown';
}

const SHAREGPT_ROLES: Record<string, string> = { human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', system: 'system', observation: 'tool', tool: 'tool', function_call: 'assistant', function: 'tool' };

/** A message's content as one string (OpenAI's list of parts joins its text parts). */
function contentText(c: unknown, where: string): string {
  if (typeof c === 'string') return c;
  if (c === null || c === undefined) return '';
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'string' ? p : isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  throw new Error(`${where}: content is ${typeof c}, expected a string`);
}

/** MiniMind messages from a list of turns in MiniMind / OpenAI ({role, content}) or ShareGPT ({from, value}) form. */
export function messagesOf(turns: unknown, field: string): Message[] {
  if (!Array.isArray(turns)) throw new Error(`'${field}' is not a list of messages`);
  return turns.map((t, i) => {
    if (!isObj(t)) throw new Error(`'${field}[${i}]' is not an object`);
    if ('from' in t) {
      const role = SHAREGPT_ROLES[String(t.from)];
      if (!role) throw new Error(`'${field}[${i}].from' is '${String(t.from)}' (expected human, gpt, system, observation or function_call)`);
      if (t.from === 'function_call') return { role, content: '', tool_calls: toolCallsOf(t.value, `${field}[${i}].value`) };
      return { role, content: contentText(t.value, `${field}[${i}].value`) };
    }
    if (typeof t.role !== 'string') throw new Error(`'${field}[${i}]' has no 'role'`);
    const { role, content, ...rest } = t;
    const m: Message = { role: role === 'human' ? 'user' : role, content: contentText(content, `${field}[${i}].content`) };
    // reasoning_content, tool_calls, ...; tool_calls as MiniMind keeps them: a JSON string (its loader's features are strings)
    for (const [k, x] of Object.entries(rest)) if (x !== undefined && x !== null) m[k] = k === 'tool_calls' && typeof x !== 'string' ? JSON.stringify(x) : x;
    return m;
  });
}

/** A ShareGPT function_call turn's value (a JSON call, or a list of calls) as MiniMind's tool_calls: a JSON string of a list. */
function toolCallsOf(value: unknown, where: string): string {
  let calls = value;
  if (typeof value === 'string') {
    try {
      calls = JSON.parse(value);
    } catch {
      throw new Error(`'${where}' of a function_call is not JSON (expected {"name": ..., "arguments": ...})`);
    }
  }
  if (!isObj(calls) && !(Array.isArray(calls) && calls.length > 0 && calls.every(isObj))) throw new Error(`'${where}' of a function_call is not a call or a list of calls`);
  return JSON.stringify(Array.isArray(calls) ? calls : [calls]);
}

/** The row's offered tools (a JSON string or a list) on its system message, where MiniMind's template reads them. */
function withTools(msgs: Message[], tools: unknown): Message[] {
  if (tools === undefined || tools === null || tools === '' || (Array.isArray(tools) && tools.length === 0)) return msgs;
  let list = tools;
  if (typeof tools === 'string') {
    try {
      list = JSON.parse(tools);
    } catch {
      throw new Error(`'tools' is not JSON (expected a list of function schemas)`);
    }
  }
  if (!Array.isArray(list)) throw new Error(`'tools' must be a list of function schemas`);
  if (list.length === 0) return msgs;
  const text = JSON.stringify(list);
  if (msgs[0]?.role === 'system') return msgs[0].tools !== undefined ? msgs : [{ ...msgs[0], tools: text }, ...msgs.slice(1)];
  return [{ role: 'system', content: '', tools: text }, ...msgs];
}

/** Alpaca's prompt: instruction + "\n" + input (LLaMA-Factory's join), after the optional system and history. */
function alpacaPrompt(v: Record<string, unknown>): Message[] {
  const msgs: Message[] = [];
  if (typeof v.system === 'string' && v.system !== '') msgs.push({ role: 'system', content: v.system });
  if (Array.isArray(v.history)) {
    for (const pair of v.history) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`'history' must be a list of [question, answer] pairs`);
      msgs.push({ role: 'user', content: String(pair[0]) }, { role: 'assistant', content: String(pair[1]) });
    }
  }
  const input = typeof v.input === 'string' ? v.input : '';
  msgs.push({ role: 'user', content: input !== '' ? `${String(v.instruction)}\n${input}` : String(v.instruction) });
  return msgs;
}

/** The conversation a chat-shaped record holds (system / user / assistant / tool messages). */
export function chatOf(v: Record<string, unknown>, kind = kindOf(v)): Message[] {
  switch (kind) {
    case 'conversations':
    case 'sharegpt':
    case 'openai': {
      const field = Array.isArray(v.conversations) ? 'conversations' : 'messages';
      const msgs = messagesOf(v[field], field);
      if (kind === 'sharegpt' && typeof v.system === 'string' && v.system !== '' && msgs[0]?.role !== 'system') msgs.unshift({ role: 'system', content: v.system });
      return withTools(msgs, v.tools);
    }
    case 'alpaca':
      return [...alpacaPrompt(v), { role: 'assistant', content: contentText(v.output, 'output') }];
    case 'v1-sft': {
      const history = typeof v.history === 'string' ? (v.history.trim() === '' ? [] : parsePythonLiteral(v.history)) : (v.history ?? []);
      const msgs = alpacaPrompt({ instruction: v.q, history });
      return [...msgs, { role: 'assistant', content: String(v.a) }];
    }
    default:
      throw new Error(kind === 'text' ? `a text row has no conversation` : `no conversation fields (expected conversations, messages, instruction/output or q/a)`);
  }
}

/** The prompt and the two answers of a preference record, as two full conversations. */
export function preferenceOf(v: Record<string, unknown>): { chosen: Message[]; rejected: Message[] } {
  const side = (x: unknown, name: string, prompt: Message[]): Message[] => {
    if (typeof x === 'string') return [...prompt, { role: 'assistant', content: x }];
    if (isObj(x)) return [...prompt, ...messagesOf([x], name)];
    const msgs = messagesOf(x, name);
    return prompt.length > 0 && msgs[0]?.role !== 'user' && msgs[0]?.role !== 'system' ? [...prompt, ...msgs] : msgs;
  };
  let prompt: Message[] = [];
  if (Array.isArray(v.conversations) || Array.isArray(v.messages)) {
    prompt = chatOf(v, Array.isArray(v.conversations) && isObj(v.conversations[0]) && 'from' in v.conversations[0] ? 'sharegpt' : Array.isArray(v.conversations) ? 'conversations' : 'openai');
  } else if (typeof v.instruction === 'string') prompt = alpacaPrompt(v);
  else if (typeof v.prompt === 'string') prompt = [{ role: 'user', content: v.prompt }];
  else if (Array.isArray(v.prompt)) prompt = messagesOf(v.prompt, 'prompt');
  return { chosen: side(v.chosen, 'chosen', prompt), rejected: side(v.rejected, 'rejected', prompt) };
}

/** The text the statistics, filters and deduplication look at: the text field, or the messages' contents joined by newlines. */
export function textOf(v: Record<string, unknown>, field?: string): string {
  if (field !== undefined) {
    const x = v[field];
    if (typeof x !== 'string') throw new Error(`no string field '${field}'`);
    return x;
  }
  const kind = kindOf(v);
  if (kind === 'text') return v.text as string;
  if (kind === 'dpo') {
    const p = preferenceOf(v);
    return [...p.chosen, ...p.rejected.slice(-1)].map((m) => m.content).join('\n');
  }
  if (kind === 'unknown') {
    for (const k of ['content', 'document', 'body', 'article', 'completion']) if (typeof v[k] === 'string') return v[k] as string;
    throw new Error(`no text field (expected text, conversations, messages, instruction/output or chosen/rejected)`);
  }
  return chatOf(v, kind).map((m) => m.content).join('\n');
}

/** A copy of the record with every text it holds (text, message contents) passed through fn. */
export function mapTexts(v: Record<string, unknown>, fn: (s: string) => string, field?: string): Record<string, unknown> {
  if (field !== undefined) return { ...v, [field]: fn(String(v[field])) };
  const out: Record<string, unknown> = { ...v };
  const mapTurns = (turns: unknown) => (Array.isArray(turns) ? turns.map((t) => (isObj(t) ? { ...t, ...(typeof t.content === 'string' ? { content: fn(t.content) } : {}), ...(typeof t.value === 'string' ? { value: fn(t.value) } : {}) } : t)) : turns);
  for (const k of ['text', 'instruction', 'input', 'output', 'system', 'prompt', 'q', 'a', 'content']) if (typeof out[k] === 'string') out[k] = fn(out[k] as string);
  for (const k of ['conversations', 'messages', 'chosen', 'rejected']) {
    if (Array.isArray(out[k])) out[k] = mapTurns(out[k]);
    else if (isObj(out[k])) out[k] = (mapTurns([out[k]]) as unknown[])[0];
    else if (typeof out[k] === 'string') out[k] = fn(out[k] as string);
  }
  return out;
}
