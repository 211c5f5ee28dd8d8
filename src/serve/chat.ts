// POST /v1/chat/completions: messages -> the model's chat template (tools, thinking) -> the engine
// -> choices, streamed as chat.completion.chunk events or returned as one chat.completion. The
// generated text of each choice is split into content, reasoning_content and tool_calls by
// ChatOutputParser, so streamed deltas and the non-stream message carry the same split. With
// `logprobs`, every generated token (reasoning, content and tool-call tokens alike; not the stop
// token) gets a logprobs.content entry; a stream sends each token's entry with the next chunk of
// its choice, so the entries of all chunks, joined, are the non-stream list.
import type { ServerResponse } from 'node:http';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { ChatOutputParser, type OutputPart, type ToolCall } from './chat-output.js';
import { contentLogprob, type ContentLogprob } from './logprobs.js';
import { checkPromptBytes, encodePrompt, EventStream, newId, onDisconnect, samplingFor, sendJson, type ServeContext } from './context.js';
import type { ChoiceEvent } from './engine.js';
import { ApiError, errors } from './errors.js';
import { parseChatRequest, type ChatRequest } from './requests.js';

type FinishReason = 'stop' | 'length' | 'tool_calls';

export function handleChat(ctx: ServeContext, body: unknown, res: ServerResponse): void {
  const r = parseChatRequest(body);
  if (r.model !== ctx.modelName) throw errors.unknownModel(r.model, ctx.modelName);
  // The template puts every message's content in the prompt: measure them before rendering.
  checkPromptBytes(ctx, r.messages.reduce((n, m) => n + Buffer.byteLength(m.content), 0), 'messages');
  const text = renderPrompt(ctx.tokenizer, r);
  const prompt = encodePrompt(ctx, text, 'messages');
  const params = samplingFor(ctx, r, prompt.length, 'messages');
  // The template left a <think> block open (thinking on): the output starts as reasoning.
  const thinking = text.lastIndexOf('<think>') > text.lastIndexOf('</think>');
  const parsers = Array.from({ length: r.n }, () => new ChatOutputParser({ thinking, toolCalls: r.tools !== undefined, callId: () => newId('call_') }));
  const meta = { id: newId('chatcmpl-'), created: Math.floor(Date.now() / 1000), model: ctx.modelName };
  const tokens = new Array<number>(r.n).fill(0);
  // logprobs.content entries not yet sent (stream) or all of them (non-stream), per choice
  const entries = Array.from({ length: r.n }, () => [] as ContentLogprob[]);
  const finish = new Array<FinishReason | null>(r.n).fill(null);
  let remaining = r.n;
  const usage = () => {
    const completion = tokens.reduce((a, b) => a + b, 0);
    return { prompt_tokens: prompt.length, completion_tokens: completion, total_tokens: prompt.length + completion };
  };
  // Each event of a choice becomes its output parts; the last one also its finish reason.
  const step = (i: number, e: ChoiceEvent): { parts: OutputPart[]; done: boolean } => {
    if (r.logprobs && e.id !== null) entries[i].push(contentLogprob(ctx.tokenizer, e.id, e.logprob!, e.topLogprobs));
    const parts = e.text ? parsers[i].push(e.text) : [];
    tokens[i] = e.sampledTokens;
    if (!e.finishReason) return { parts, done: false };
    parts.push(...parsers[i].end());
    finish[i] = e.finishReason === 'stop' && parsers[i].toolCallCount > 0 ? 'tool_calls' : e.finishReason;
    remaining--;
    return { parts, done: true };
  };

  if (r.stream) {
    let out: EventStream | null = null;
    const chunk = (choices: unknown[], withUsage = false) => ({
      ...meta,
      object: 'chat.completion.chunk',
      system_fingerprint: null,
      choices,
      ...(r.includeUsage ? { usage: withUsage ? usage() : null } : {}),
    });
    const callIndex = new Array<number>(r.n).fill(0);
    // The entries waiting for choice i's next chunk (null without logprobs, as OpenAI sends).
    const take = (i: number) => {
      if (!r.logprobs) return null;
      const content = entries[i];
      entries[i] = [];
      return { content, refusal: null };
    };
    const cancel = ctx.engine.submit({
      prompt,
      params,
      n: r.n,
      onEvent: (i, e) => {
        const { parts, done } = step(i, e);
        for (const p of parts) out!.send(chunk([{ index: i, delta: delta(p, () => callIndex[i]++), logprobs: take(i), finish_reason: null }]));
        if (!done) return;
        // tokens whose text never showed (held back, or framing) report with the finish chunk
        out!.send(chunk([{ index: i, delta: {}, logprobs: entries[i].length > 0 ? take(i) : null, finish_reason: finish[i] }]));
        if (remaining > 0) return;
        if (r.includeUsage) out!.send(chunk([], true));
        out!.done();
      },
      onError: (err) => out!.fail(errors.internal(err.message)),
    });
    // Headers go out only once the request is accepted (a full queue still answers 429).
    out = new EventStream(res);
    onDisconnect(res, cancel);
    for (let i = 0; i < r.n; i++) out.send(chunk([{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
    return;
  }

  const msgs = Array.from({ length: r.n }, () => ({ content: '', reasoning: '', toolCalls: [] as ToolCall[] }));
  const cancel = ctx.engine.submit({
    prompt,
    params,
    n: r.n,
    onEvent: (i, e) => {
      for (const p of step(i, e).parts) {
        if ('content' in p) msgs[i].content += p.content;
        else if ('reasoning' in p) msgs[i].reasoning += p.reasoning;
        else msgs[i].toolCalls.push(p.toolCall);
      }
      if (remaining > 0) return;
      sendJson(res, 200, {
        ...meta,
        object: 'chat.completion',
        system_fingerprint: null,
        choices: msgs.map((m, k) => ({
          index: k,
          message: {
            role: 'assistant',
            // OpenAI: content is null when the answer is only tool calls.
            content: m.content === '' && m.toolCalls.length > 0 ? null : m.content,
            ...(m.reasoning ? { reasoning_content: m.reasoning } : {}),
            ...(m.toolCalls.length > 0 ? { tool_calls: m.toolCalls } : {}),
            refusal: null,
          },
          logprobs: r.logprobs ? { content: entries[k], refusal: null } : null,
          finish_reason: finish[k],
        })),
        usage: usage(),
      });
    },
    onError: (err) => {
      const e = errors.internal(err.message);
      if (!res.headersSent) sendJson(res, e.status, e.toJSON());
    },
  });
  onDisconnect(res, cancel);
}

function delta(p: OutputPart, nextCallIndex: () => number): Record<string, unknown> {
  if ('content' in p) return { content: p.content };
  if ('reasoning' in p) return { reasoning_content: p.reasoning };
  return { tool_calls: [{ index: nextCallIndex(), ...p.toolCall }] };
}

function renderPrompt(tokenizer: Tokenizer, r: ChatRequest): string {
  if (tokenizer.chatTemplate === undefined) throw new ApiError(400, 'This model has no chat template (tokenizer_config.json chat_template); use /v1/completions.', 'invalid_request_error', 'messages', 'no_chat_template');
  try {
    return tokenizer.applyChatTemplate(r.messages, { addGenerationPrompt: true, ...(r.tools ? { tools: r.tools } : {}), ...(r.thinking ? { openThinking: true, enableThinking: true } : {}) });
  } catch (e) {
    throw new ApiError(400, (e as Error).message, 'invalid_request_error', 'messages', 'invalid_messages');
  }
}
