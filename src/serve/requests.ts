// Validation of OpenAI request bodies into typed requests. Every field we honour is checked for
// type and range, with a 400 that names it (param) as OpenAI does; fields we cannot honour
// (response_format json, tool_choice 'required', echo, best_of, suffix, ...) get a clear 400
// instead of being silently ignored. Unknown fields are ignored, as most OpenAI-compatible
// servers do, so clients that send extra keys (user, metadata, store) keep working.
import type { ChatMessage } from '../tokenizer/chat.js';
import { badParam } from './errors.js';

/** Sampling settings common to both endpoints; undefined = the model's generation_config, else OpenAI's default. */
export interface RequestSampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  /** New tokens per choice at most (max_tokens / max_completion_tokens); undefined = what the context leaves. */
  maxTokens?: number;
  stop: string[];
  seed?: number;
  frequencyPenalty: number;
  presencePenalty: number;
  repetitionPenalty?: number;
  n: number;
  stream: boolean;
  includeUsage: boolean;
}

export interface ChatRequest extends RequestSampling {
  model: string;
  messages: ChatMessage[];
  /** Function tools to render into the prompt (absent when tool_choice is 'none'). */
  tools?: unknown[];
  /** minimind-3: open a <think> block (chat_template_kwargs.enable_thinking / open_thinking). */
  thinking: boolean;
  /** Return each generated token's log-probability (choices[].logprobs.content). */
  logprobs: boolean;
  /** With logprobs: this many most likely alternatives per token (0..20). */
  topLogprobs: number;
}

export interface CompletionRequest extends RequestSampling {
  model: string;
  /** One prompt each: text, or token ids. */
  prompts: (string | number[])[];
  /** Legacy logprobs (0..5): each token's log-probability and this many most likely alternatives; undefined = off. */
  logprobs?: number;
}

type Json = Record<string, unknown>;

export function parseChatRequest(body: unknown): ChatRequest {
  const b = object(body, 'body');
  const messages = array(b.messages, 'messages').map((m, i) => parseMessage(m, `messages[${i}]`));
  if (messages.length === 0) throw badParam('messages', "'messages' must contain at least one message.", 'empty_array');
  let tools: unknown[] | undefined;
  if (b.tools !== undefined && b.tools !== null) {
    tools = array(b.tools, 'tools').map((t, i) => parseTool(t, `tools[${i}]`));
    if (tools.length === 0) tools = undefined;
  }
  const choice = b.tool_choice;
  if (choice !== undefined && choice !== null && choice !== 'auto' && choice !== 'none') {
    if (choice === 'required' || (typeof choice === 'object' && !Array.isArray(choice))) {
      throw badParam('tool_choice', "tool_choice 'required' or a named function is not supported: this server cannot force the model to call a tool. Use 'auto' or 'none'.", 'unsupported_value');
    }
    throw badParam('tool_choice', `tool_choice must be 'auto' or 'none', got ${JSON.stringify(choice)}.`);
  }
  if (choice === 'none') tools = undefined;
  const kwargs = b.chat_template_kwargs === undefined || b.chat_template_kwargs === null ? {} : object(b.chat_template_kwargs, 'chat_template_kwargs');
  const flag = (v: unknown, param: string) => (v === undefined || v === null ? false : bool(v, param));
  const thinking = flag(kwargs.enable_thinking, 'chat_template_kwargs.enable_thinking') || flag(kwargs.open_thinking, 'chat_template_kwargs.open_thinking') || flag(b.open_thinking, 'open_thinking');
  const logprobs = b.logprobs === undefined || b.logprobs === null ? false : bool(b.logprobs, 'logprobs');
  const topLogprobs = optInt(b.top_logprobs, 'top_logprobs', 0, 20);
  if (topLogprobs !== undefined && !logprobs) throw badParam('top_logprobs', "'top_logprobs' requires 'logprobs' to be true.");
  if (b.response_format !== undefined && b.response_format !== null) {
    const rf = object(b.response_format, 'response_format');
    if (rf.type !== 'text') throw badParam('response_format', `response_format ${JSON.stringify(rf.type)} is not supported (only 'text').`, 'unsupported_value');
  }
  const maxCompletion = optInt(b.max_completion_tokens, 'max_completion_tokens', 1);
  return { model: str(b.model, 'model'), messages, tools, thinking, logprobs, topLogprobs: topLogprobs ?? 0, ...parseSampling(b, maxCompletion ?? optInt(b.max_tokens, 'max_tokens', 1)) };
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = object(body, 'body');
  const p = b.prompt;
  let prompts: (string | number[])[];
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => Number.isInteger(x))) prompts = [p as number[]];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => Array.isArray(x) && x.length > 0 && x.every((y) => Number.isInteger(y)))) prompts = p as number[][];
  else throw badParam('prompt', "'prompt' must be a string, an array of strings, an array of token ids, or an array of token-id arrays.", p === undefined ? 'missing_required_parameter' : 'invalid_type');
  if (b.echo === true) throw badParam('echo', 'echo is not supported by this server.', 'unsupported_parameter');
  if (b.best_of !== undefined && b.best_of !== null && b.best_of !== 1) throw badParam('best_of', 'best_of is not supported by this server.', 'unsupported_parameter');
  if (b.suffix !== undefined && b.suffix !== null) throw badParam('suffix', 'suffix is not supported by this server.', 'unsupported_parameter');
  // The legacy endpoint's max_tokens default is 16 (OpenAI); its logprobs is a count, at most 5.
  return { model: str(b.model, 'model'), prompts, logprobs: optInt(b.logprobs, 'logprobs', 0, 5), ...parseSampling(b, optInt(b.max_tokens, 'max_tokens', 1) ?? 16) };
}

function parseSampling(b: Json, maxTokens: number | undefined): RequestSampling {
  const stop = b.stop;
  let stops: string[] = [];
  if (typeof stop === 'string') stops = [stop];
  else if (Array.isArray(stop)) stops = stop.map((s, i) => str(s, `stop[${i}]`));
  else if (stop !== undefined && stop !== null) throw badParam('stop', "'stop' must be a string or an array of strings.", 'invalid_type');
  if (stops.length > 4) throw badParam('stop', `'stop' takes at most 4 sequences, got ${stops.length}.`);
  if (stops.some((s) => s === '')) throw badParam('stop', "'stop' sequences must not be empty.");
  const so = b.stream_options === undefined || b.stream_options === null ? {} : object(b.stream_options, 'stream_options');
  const stream = b.stream === undefined || b.stream === null ? false : bool(b.stream, 'stream');
  const includeUsage = so.include_usage === undefined || so.include_usage === null ? false : bool(so.include_usage, 'stream_options.include_usage');
  if (b.stream_options !== undefined && b.stream_options !== null && !stream) throw badParam('stream_options', "'stream_options' is only allowed when 'stream' is true.");
  return {
    temperature: optNum(b.temperature, 'temperature', 0, 2),
    topP: optNum(b.top_p, 'top_p', 0, 1, true),
    topK: optInt(b.top_k, 'top_k', 0),
    maxTokens,
    stop: stops,
    seed: optInt(b.seed, 'seed', -(2 ** 53), 2 ** 53),
    frequencyPenalty: optNum(b.frequency_penalty, 'frequency_penalty', -2, 2) ?? 0,
    presencePenalty: optNum(b.presence_penalty, 'presence_penalty', -2, 2) ?? 0,
    repetitionPenalty: optNum(b.repetition_penalty, 'repetition_penalty', 0, Infinity, true),
    n: optInt(b.n, 'n', 1, 16) ?? 1,
    stream,
    includeUsage,
  };
}

function parseMessage(v: unknown, at: string): ChatMessage {
  const m = object(v, at);
  const role = m.role;
  const roles = ['system', 'developer', 'user', 'assistant', 'tool'];
  if (typeof role !== 'string' || !roles.includes(role)) throw badParam(`${at}.role`, `${at}.role must be one of ${roles.join(', ')}, got ${JSON.stringify(role)}.`);
  const out: ChatMessage = { role: role === 'developer' ? 'system' : role, content: content(m.content, `${at}.content`, role === 'assistant') };
  if (role === 'assistant') {
    if (m.tool_calls !== undefined && m.tool_calls !== null) out.tool_calls = array(m.tool_calls, `${at}.tool_calls`).map((c, i) => parseToolCallIn(c, `${at}.tool_calls[${i}]`));
    if (typeof m.reasoning_content === 'string') out.reasoning_content = m.reasoning_content;
    if (out.content === '' && !out.tool_calls?.length && m.content == null) throw badParam(`${at}.content`, `${at} needs content or tool_calls.`);
  }
  if (role === 'tool' && m.tool_call_id !== undefined) out.tool_call_id = str(m.tool_call_id, `${at}.tool_call_id`);
  return out;
}

// Message content: a string, or text parts (joined), or null for an assistant message with tool calls.
function content(v: unknown, at: string, nullable: boolean): string {
  if (typeof v === 'string') return v;
  if ((v === null || v === undefined) && nullable) return '';
  if (Array.isArray(v)) {
    return v
      .map((p, i) => {
        const part = object(p, `${at}[${i}]`);
        if (part.type !== 'text') throw badParam(`${at}[${i}].type`, `${at}[${i}] is a part of type '${String(part.type)}'; this model reads text parts only.`, 'unsupported_value');
        return str(part.text, `${at}[${i}].text`);
      })
      .join('');
  }
  throw badParam(at, `${at} must be a string or an array of text parts.`, v === undefined ? 'missing_required_parameter' : 'invalid_type');
}

function parseTool(v: unknown, at: string): unknown {
  const t = object(v, at);
  if (t.type !== 'function') throw badParam(`${at}.type`, `${at}.type must be 'function'.`);
  const f = object(t.function, `${at}.function`);
  str(f.name, `${at}.function.name`);
  if (f.parameters !== undefined) object(f.parameters, `${at}.function.parameters`);
  return t; // rendered as given (tojson), as transformers does
}

function parseToolCallIn(v: unknown, at: string): unknown {
  const c = object(v, at);
  const f = object(c.function, `${at}.function`);
  str(f.name, `${at}.function.name`);
  if (typeof f.arguments !== 'string' && (typeof f.arguments !== 'object' || f.arguments === null)) throw badParam(`${at}.function.arguments`, `${at}.function.arguments must be a JSON string.`, 'invalid_type');
  return c;
}

// ---- typed field readers ----

function object(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw badParam(at, at === 'body' ? 'The request body must be a JSON object.' : `'${at}' must be an object.`, v === undefined ? 'missing_required_parameter' : 'invalid_type');
  }
  return v as Json;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw badParam(at, v === undefined ? `Missing required parameter: '${at}'.` : `'${at}' must be an array.`, v === undefined ? 'missing_required_parameter' : 'invalid_type');
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw badParam(at, v === undefined ? `Missing required parameter: '${at}'.` : `'${at}' must be a string.`, v === undefined ? 'missing_required_parameter' : 'invalid_type');
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw badParam(at, `'${at}' must be a boolean.`, 'invalid_type');
  return v;
}

// A number in [min, max] (min excluded when openMin); null/undefined = not given.
function optNum(v: unknown, at: string, min: number, max: number, openMin = false): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badParam(at, `'${at}' must be a number.`, 'invalid_type');
  if (v < min || v > max || (openMin && v === min)) throw badParam(at, `'${at}' must be ${openMin ? '>' : '>='} ${min}${Number.isFinite(max) ? ` and <= ${max}` : ''}, got ${v}.`);
  return v;
}

function optInt(v: unknown, at: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badParam(at, `'${at}' must be an integer.`, 'invalid_type');
  if (v < min || v > max) throw badParam(at, `'${at}' must be >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}, got ${v}.`);
  return v;
}
