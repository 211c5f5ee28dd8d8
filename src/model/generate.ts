// Autoregressive generation with the KV cache: prefill the prompt once (last-position logits
// only), then feed one token per step. Each step reads exactly one host row of logits per
// sequence; choosing the token (sampling.ts pieces) happens on the host.
//
//   const [r] = generate(model, tokenizer.encode(prompt), { maxNewTokens: 64, temperature: 0, tokenizer });
//   r.ids   // new tokens only (a stop token is not included)
//   r.text  // their text, cut before a stop string
//
// Batches: MiniMind has no position_ids, so left-padding would shift positions (spec 1.4). Rows
// with the same prompt length run together as one real batch (one (B, T) prefill, one (B, 1)
// decode per step); rows of different lengths run as separate groups. A row that finished keeps
// its slot until its group ends (its logits are ignored), which costs compute, never correctness.
import { tensor, type Tensor } from '../core/tensor.js';
import { scope } from '../core/scope.js';
import { noGrad } from '../core/autograd.js';
import { logitsProcessors, makeSampler, rowRng, StopStringMatcher, type LogitsProcessor, type Sampler } from './sampling.js';

/** The part of MiniMindForCausalLM that generation uses. */
export interface CausalLM<C extends { readonly length: number } = { readonly length: number }> {
  // inputIds: (B, T) int32 → logits: (B, T, V), or (B, 1, V) with lastOnly. With a cache, the new
  // positions start at cache.length and are appended to it.
  forward(inputIds: Tensor, opts?: { cache?: C; lastOnly?: boolean }): { logits: Tensor };
  newCache(batch: number, maxLen?: number): C;
  /** Optional fast path for batch-1 decode steps: step(token) appends it to the cache and returns the next logits. */
  fusedDecoder?(cache: C): { step(token: number): Float32Array; dispose(): void } | null;
  readonly config: object;
}

/** What generation needs from a tokenizer: a streaming decoder that never splits a UTF-8 character. */
export interface StreamingTokenizer {
  decodeStream(options?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string };
}

export type FinishReason = 'stop' | 'length';

export interface GenerateOptions {
  /** New tokens per row; exactly this many unless a stop condition or the context limit ends it first. */
  maxNewTokens: number;
  /** 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** 0 or undefined = off. */
  topK?: number;
  /** 1 or undefined = off. */
  topP?: number;
  /** 1 or undefined = off; sign-aware (HF / MiniMind HEAD). */
  repetitionPenalty?: number;
  /** Tokens that end a row (not included in its ids). Default: the config's eos_token_id. Pass [] for none. */
  stopTokenIds?: number[];
  /** Strings that end a row; the text is cut before them. Needs `tokenizer`. */
  stopStrings?: string[];
  /** Gives results and events their text; required for stop strings. */
  tokenizer?: StreamingTokenizer;
  /** Drop special tokens from the text (default true, as HF's streamer in MiniMind's server). */
  skipSpecialTokens?: boolean;
  /** Seed for sampling; the same seed gives the same tokens. Default: a random seed. */
  seed?: number;
  /** Called for every new token, and once more per row when it finishes (id null, finishReason set). */
  onToken?: (event: TokenEvent) => void;
}

export interface TokenEvent {
  /** Index of the prompt this token belongs to. */
  row: number;
  /** The new token, or null on the row's final event. */
  id: number | null;
  /** Newly visible text ('' without a tokenizer, or while text is held back: partial UTF-8 or a possible stop string). */
  text: string;
  /** Set on the row's final event. */
  finishReason?: FinishReason;
}

export interface GenerationResult {
  /** The new tokens only. */
  ids: number[];
  /** Their text (when a tokenizer was given). */
  text?: string;
  finishReason: FinishReason;
}

/** Generates for one prompt (number[]) or several (number[][]); returns one result per prompt. */
export function generate(model: CausalLM, prompts: number[] | number[][], opts: GenerateOptions): GenerationResult[] {
  const steps = generateSteps(model, prompts, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    opts.onToken?.(r.value);
  }
}

/**
 * The same as generate, as an async iterator of token events (the final events carry
 * finishReason). It yields to the event loop after every event, so a server stays responsive.
 */
export async function* generateStream(model: CausalLM, prompts: number[] | number[][], opts: GenerateOptions): AsyncGenerator<TokenEvent, GenerationResult[]> {
  const steps = generateSteps(model, prompts, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    yield r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The generation loop as a synchronous generator of token events; returns the results. */
export function* generateSteps(model: CausalLM, prompts: number[] | number[][], opts: GenerateOptions): Generator<TokenEvent, GenerationResult[]> {
  const rows: number[][] = prompts.length > 0 && Array.isArray(prompts[0]) ? (prompts as number[][]) : [prompts as number[]];
  const settings = resolveOptions(model, opts);
  const results: GenerationResult[] = new Array(rows.length);
  rows.forEach((r, i) => checkPrompt(r, i, settings.vocabSize));
  // Group rows by prompt length (first-seen order), so every group is a rectangle.
  const groups = new Map<number, number[]>();
  rows.forEach((r, i) => {
    const g = groups.get(r.length);
    if (g) g.push(i);
    else groups.set(r.length, [i]);
  });
  for (const [T0, members] of groups) {
    if (T0 > settings.maxPositions) {
      throw new Error(`generate: prompt ${members[0]} has ${T0} tokens, more than the model's ${settings.maxPositions} positions (max_position_embeddings)`);
    }
    yield* runGroup(model, rows, members, settings, results);
  }
  return results;
}

// ---- internals ----

interface Settings {
  maxNewTokens: number;
  maxPositions: number;
  vocabSize: number;
  processors: LogitsProcessor[];
  temperature: number;
  seed: number;
  stopTokens: Set<number>;
  stopStrings: string[];
  tokenizer?: StreamingTokenizer;
  skipSpecialTokens: boolean;
}

function resolveOptions(model: CausalLM, opts: GenerateOptions): Settings {
  const cfg = model.config as Record<string, unknown>;
  const maxNewTokens = opts.maxNewTokens;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  const temperature = opts.temperature ?? 1;
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  const stopStrings = opts.stopStrings ?? [];
  if (stopStrings.length > 0 && !opts.tokenizer) throw new Error('generate: stopStrings need a tokenizer (pass opts.tokenizer)');
  const eos = typeof cfg.eos_token_id === 'number' ? [cfg.eos_token_id] : [];
  const maxPos = numberField(cfg, ['max_position_embeddings', 'max_seq_len']) ?? Infinity;
  return {
    maxNewTokens,
    maxPositions: maxPos,
    vocabSize: numberField(cfg, ['vocab_size']) ?? Infinity,
    processors: logitsProcessors({ temperature, topK: opts.topK, topP: opts.topP, repetitionPenalty: opts.repetitionPenalty }),
    temperature,
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 32),
    stopTokens: new Set(opts.stopTokenIds ?? eos),
    stopStrings,
    tokenizer: opts.tokenizer,
    skipSpecialTokens: opts.skipSpecialTokens ?? true,
  };
}

function numberField(cfg: Record<string, unknown>, names: string[]): number | undefined {
  for (const n of names) if (typeof cfg[n] === 'number') return cfg[n] as number;
  return undefined;
}

function checkPrompt(ids: number[], row: number, vocab: number): void {
  if (!Array.isArray(ids) || ids.length === 0) throw new Error(`generate: prompt ${row} is empty (give at least one token, e.g. BOS)`);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`generate: prompt ${row} token ${i} is ${id}, outside the vocabulary [0, ${vocab})`);
  }
}

/** Per-row state while its group runs. */
interface RowState {
  row: number;
  seq: number[]; // prompt + generated, what the repetition penalty looks at
  ids: number[];
  text: string;
  sampler: Sampler;
  decoder?: { push(id: number): string; flush(): string };
  stops?: StopStringMatcher;
  done: boolean;
}

function* runGroup(model: CausalLM, prompts: number[][], members: number[], s: Settings, results: GenerationResult[]): Generator<TokenEvent> {
  const B = members.length;
  const T0 = prompts[members[0]].length;
  // The model never sees a position >= maxPositions: the last fed token sits at T0 + n - 2 for the
  // n-th new token, so at most maxPositions - T0 + 1 new tokens fit.
  const budget = Math.min(s.maxNewTokens, s.maxPositions - T0 + 1);
  const states: RowState[] = members.map((row) => ({
    row,
    seq: [...prompts[row]],
    ids: [],
    text: '',
    sampler: makeSampler(s.temperature, rowRng(s.seed, row)),
    decoder: s.tokenizer?.decodeStream({ skipSpecialTokens: s.skipSpecialTokens }),
    stops: s.stopStrings.length > 0 ? new StopStringMatcher(s.stopStrings) : undefined,
    done: false,
  }));
  // Ends a row. After a stop token or the length limit, text still held back (a partial UTF-8
  // character, a tail that might have become a stop string) is released; after a stop string the
  // text ends where the stop string began.
  const finish = (st: RowState, reason: FinishReason, atStopString = false): TokenEvent => {
    st.done = true;
    let tail = '';
    if (st.decoder && !atStopString) {
      tail = st.decoder.flush();
      if (st.stops) {
        const r = st.stops.push(tail);
        tail = r.stopped ? r.text : r.text + st.stops.flush();
      }
      st.text += tail;
    }
    results[st.row] = { ids: st.ids, ...(s.tokenizer ? { text: st.text } : {}), finishReason: reason };
    return { row: st.row, id: null, text: tail, finishReason: reason };
  };
  if (budget <= 0) {
    for (const st of states) yield finish(st, 'length');
    return;
  }

  const cache = model.newCache(B, Math.min(s.maxPositions, T0 + budget - 1));
  let fused: { step(token: number): Float32Array; dispose(): void } | null = null;
  try {
    // Prefill: (B, T0) → last-position logits (B, 1, V), read once to the host.
    const flat = new Int32Array(B * T0);
    members.forEach((row, b) => flat.set(prompts[row], b * T0));
    let logits = forwardLast(model, flat, B, T0, cache);
    if (B === 1) fused = model.fusedDecoder?.(cache) ?? null;
    const V = logits.length / B;
    const next = new Int32Array(B);
    for (;;) {
      let active = 0;
      for (let b = 0; b < B; b++) {
        const st = states[b];
        if (st.done) continue;
        const row = logits.subarray(b * V, (b + 1) * V);
        for (const p of s.processors) p(row, st.seq);
        const id = st.sampler(row);
        next[b] = id;
        if (s.stopTokens.has(id)) {
          yield finish(st, 'stop');
          continue;
        }
        st.ids.push(id);
        st.seq.push(id);
        let text = '';
        let stopped = false;
        if (st.decoder) {
          text = st.decoder.push(id);
          if (st.stops) ({ text, stopped } = st.stops.push(text));
          st.text += text;
        }
        yield { row: st.row, id, text };
        if (stopped) yield finish(st, 'stop', true);
        else if (st.ids.length >= budget) yield finish(st, 'length');
        else active++;
      }
      if (active === 0) break;
      // Decode: (B, 1) → (B, 1, V). Finished rows feed their last choice; their logits are ignored.
      logits = fused ? fused.step(next[0]) : forwardLast(model, next, B, 1, cache);
    }
  } finally {
    fused?.dispose();
    (cache as { dispose?: () => void }).dispose?.();
  }
}

// One forward with the cache; returns the last-position logits (B·V) as a host array. Every tensor
// made by the step is freed by the scope; the cache's own buffers outlive it. (The host array
// leaves through a variable, not as the scope's return value, which scope() would walk.)
function forwardLast(model: CausalLM, ids: Int32Array, B: number, T: number, cache: { readonly length: number }): Float32Array {
  let host: Float32Array | undefined;
  noGrad(() =>
    scope(() => {
      const { logits } = model.forward(tensor(ids, [B, T], 'int32'), { cache, lastOnly: true });
      const h = logits.toArray();
      host = h instanceof Float32Array ? h : Float32Array.from(h);
    }),
  );
  return host!;
}
