// What the endpoint handlers share: the engine, the tokenizer, the served model's name and limits,
// and the sampling defaults from the model folder's generation_config.json. Also the pieces both
// endpoints use to turn a validated request into engine parameters and to write responses.
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { SamplingParams } from '../model/batch-generate.js';
import type { GenerationDefaults } from '../formats/inference-folder.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { Engine } from './engine.js';
import { errors, type ApiError } from './errors.js';
import type { RequestSampling } from './requests.js';

export interface ServeContext {
  engine: Engine;
  tokenizer: Tokenizer;
  /** The id clients must send as `model`. */
  modelName: string;
  /** Prompt + completion tokens at most: inference-folder's contextLength (the length trained at, when recorded). */
  contextLength: number;
  /** Token ids that end a completion (eos of config, tokenizer and generation_config). */
  stopTokenIds: number[];
  /** generation_config.json's sampling settings (transformers' defaults where it says nothing): what a request leaves out. */
  defaults: GenerationDefaults;
  /** Unix seconds the model was loaded (GET /v1/models `created`). */
  created: number;
}

/**
 * Refuses (400) a prompt of `bytes` UTF-8 bytes that cannot fit whatever it tokenizes to: it has
 * at least bytes / maxTokenBytes tokens. Costs nothing, so a 4 MiB prompt never reaches the
 * tokenizer.
 */
export function checkPromptBytes(ctx: ServeContext, bytes: number, param: string): void {
  const atLeast = Math.ceil(bytes / ctx.tokenizer.maxTokenBytes);
  if (atLeast >= ctx.contextLength) throw errors.promptTooLong(ctx.contextLength, `are ${bytes} bytes long: at least ${atLeast} tokens`, param);
}

/**
 * The ids of a text prompt after `prefix` (BOS), or a 400 as soon as it cannot fit: first by its
 * byte length, then while tokenizing (which stops one word past the context), so the work spent
 * on a prompt, and the time the event loop is held, is bounded by the context length.
 */
export function encodePrompt(ctx: ServeContext, text: string, param: string, prefix: number[] = []): number[] {
  checkPromptBytes(ctx, Buffer.byteLength(text), param);
  const room = ctx.contextLength - 1 - prefix.length; // at least one token must be left to generate
  const ids = ctx.tokenizer.encode(text, room);
  if (ids.length > room) throw errors.promptTooLong(ctx.contextLength, `are more than ${room + prefix.length} tokens long`, param);
  return [...prefix, ...ids];
}

/** The engine's sampling parameters for a request whose prompt has promptTokens tokens (or a 400). */
export function samplingFor(ctx: ServeContext, r: RequestSampling & { logprobs?: boolean; topLogprobs?: number }, promptTokens: number, param: string): SamplingParams {
  const room = ctx.contextLength - promptTokens;
  if (room < 1 || (r.maxTokens !== undefined && r.maxTokens > room)) {
    throw errors.contextLength(ctx.contextLength, promptTokens, r.maxTokens ?? 1, param);
  }
  return {
    // A request without max_tokens gets generation_config's max_new_tokens (as vLLM does), else the room left.
    maxNewTokens: r.maxTokens ?? Math.min(room, ctx.defaults.maxNewTokens ?? room),
    temperature: r.temperature ?? ctx.defaults.temperature,
    topP: r.topP ?? ctx.defaults.topP,
    topK: r.topK ?? ctx.defaults.topK,
    repetitionPenalty: r.repetitionPenalty ?? ctx.defaults.repetitionPenalty,
    frequencyPenalty: r.frequencyPenalty,
    presencePenalty: r.presencePenalty,
    stopTokenIds: ctx.stopTokenIds,
    stopStrings: r.stop,
    seed: r.seed,
    logprobs: r.logprobs ?? false,
    topLogprobs: r.topLogprobs ?? 0,
  };
}

/** chatcmpl-… / cmpl-… / call_… ids: random, as OpenAI's. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Server-Sent Events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]` last. */
export class EventStream {
  constructor(private readonly res: ServerResponse) {
    // No Connection header: Node keeps the connection alive unless the client sent `Connection: close`.
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  }

  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  // Writes never wait for the client to read: a slow reader's chunks queue in its own socket
  // buffer and cannot hold up the decode loop that serves everyone else.
  send(chunk: unknown): void {
    if (this.open) this.res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  done(): void {
    if (!this.open) return;
    this.res.write('data: [DONE]\n\n');
    this.res.end();
  }

  /** An error after the stream started: OpenAI's error object as an event, then the end. */
  fail(e: ApiError): void {
    if (!this.open) return;
    this.res.write(`data: ${JSON.stringify(e.toJSON())}\n\n`);
    this.res.end();
  }
}

/** Calls fn once when the client goes away before the response is complete. */
export function onDisconnect(res: ServerResponse, fn: () => void): void {
  res.on('close', () => {
    if (!res.writableFinished) fn();
  });
}
