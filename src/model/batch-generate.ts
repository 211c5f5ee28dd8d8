// The generation engine, the one every caller uses (generate.ts's batch of one, chat, serve, RL
// rollouts, eval): continuous batching on top of the model's ragged forward (batch-decode.ts).
// Sequences with their own prompts and sampling settings join and leave between steps, and every
// step is one ragged forward that prefills the prompts joining now and feeds one token to each
// running sequence. A step with a single running sequence and nothing to prefill takes the
// model's fused batch-1 decode step where it has one (fused-decode.ts). With a prefill budget
// (maxPrefillTokens), a prompt longer than the budget is prefilled in chunks over several steps
// (chunked prefill), so a long prompt costs the running streams a few slower steps, never one
// long stall. generateBatch() is the whole loop for a fixed set of prompts (RL rollouts, batch
// inference); the server drives a ContinuousBatch itself, one step per event-loop turn, adding
// requests as they arrive and cancelling them when a client goes away.
//
//   const out = generateBatch(model, [promptA, promptB], { maxNewTokens: 64, temperature: 1, numReturnSequences: 4, seed: 1 });
//   out[0].prompt === 0, out[0].sample === 0 ... out[7].prompt === 1, out[7].sample === 3
//   out[i].ids, out[i].logprobs (log p(token) under the model, before any sampling edits), out[i].finishReason
//
// A sequence's tokens do not depend on what it was batched with: sampling draws from the
// sequence's own generator (rowRng), and the batched step computes each row as a batch of one
// would, up to float rounding in the matrix products (tests compare with generate() at T = 0).
import { logitsProcessors, makeSampler, rowRng, StopStringMatcher, type LogitsProcessor, type Sampler } from './sampling.js';

/**
 * What the engine needs from a model: MiniMindForCausalLM (batch-decode.ts, fused-decode.ts), or
 * the tests' fakes. Caches are per sequence (batch 1), so sequences come and go freely.
 */
export interface CausalLM<C extends SequenceCache = SequenceCache> {
  readonly config: { readonly vocab_size: number; readonly max_position_embeddings: number; readonly eos_token_id?: number };
  /** A KV cache for one sequence with room for maxLen positions. */
  newCache(batch: 1, maxLen?: number): C;
  /**
   * Appends each segment's tokens to its own cache (from position cache.length on) and returns the
   * logits after each segment's last token: S rows of V floats.
   */
  forwardRagged(segments: readonly { ids: readonly number[]; cache: C }[]): Float32Array;
  /** The fast path of a lone sequence's decode steps, or null where the model has none. */
  fusedDecoder?(cache: C): BatchOneDecoder | null;
}

/** A sequence's KV cache as the engine handles it. */
export interface SequenceCache {
  readonly length: number;
  /** A copy (n samples of one prompt share its prefill). */
  fork(): this;
  dispose(): void;
}

/** step(token) feeds token at position cache.length, appends it, and returns the next logits (a reused buffer). */
export interface BatchOneDecoder {
  step(token: number): Float32Array;
  dispose(): void;
}

/** What generation needs from a tokenizer: a streaming decoder that never splits a UTF-8 character. */
export interface StreamingTokenizer {
  decodeStream(options?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string };
}

export type FinishReason = 'stop' | 'length';

/** How one sequence is sampled and when it ends. */
export interface SamplingParams {
  /** New tokens at most; fewer when a stop condition or the context limit comes first. */
  maxNewTokens: number;
  /** 0 = greedy. Default 1. */
  temperature?: number;
  /** 0 / undefined = off. */
  topK?: number;
  /** 1 / undefined = off. */
  topP?: number;
  /** HF / MiniMind repetition penalty over prompt + output (1 = off). */
  repetitionPenalty?: number;
  /** OpenAI's penalties over the tokens generated so far: logit -= count * frequency + (count > 0) * presence. */
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Tokens that end the sequence (not included in ids). Default: the config's eos_token_id. */
  stopTokenIds?: number[];
  /** Strings that end the sequence; the text is cut before them (needs a tokenizer). */
  stopStrings?: string[];
  /** Sampling seed; default random. Sequence i of a generateBatch call draws from rowRng(seed, i). */
  seed?: number;
  /** Drop special tokens from the text (default true). */
  skipSpecialTokens?: boolean;
  /**
   * Compute each token's log-probability (events' logprob, results' logprobs; default true). A
   * server turns it off for requests that do not ask for logprobs: it saves a pass of exp() over
   * the vocabulary per token.
   */
  logprobs?: boolean;
  /** Report the k most likely tokens at each step (OpenAI's top_logprobs, 0..20; default 0; needs logprobs). */
  topLogprobs?: number;
}

/** One new token of a sequence, or (id null, finishReason set) its end. */
export interface SequenceEvent {
  id: number | null;
  /** Newly visible text ('' without a tokenizer or while text is held back). */
  text: string;
  /** log p(id) under the model's own distribution (raw logits, temperature 1, no penalties). */
  logprob?: number;
  /** With topLogprobs k > 0: the k most likely tokens of the same distribution, most likely first. */
  topLogprobs?: TokenLogprob[];
  finishReason?: FinishReason;
}

/** A token and its log-probability. */
export interface TokenLogprob {
  id: number;
  logprob: number;
}

export interface SequenceResult {
  ids: number[];
  /** log p of each id (empty with logprobs: false). */
  logprobs: number[];
  /** The text of ids, cut before a stop string (when the batch has a tokenizer). */
  text?: string;
  finishReason: FinishReason;
  promptTokens: number;
}

/** A sequence in a ContinuousBatch. */
export class Sequence {
  readonly ids: number[] = [];
  readonly logprobs: number[] = [];
  text = '';
  finishReason: FinishReason | null = null;
  /** Tokens the model produced: ids plus the stop token that ended it, if one did (what usage counts). */
  sampledTokens = 0;
  cancelled = false;
  /** @internal */ cache: SequenceCache | null = null;
  /** @internal The fused decoder over this sequence's cache: undefined until asked for, null where there is none. */
  fused: BatchOneDecoder | null | undefined = undefined;
  /** @internal */ next = -1;
  private readonly history: number[];
  private readonly processors: LogitsProcessor[];
  private readonly sampler: Sampler;
  private readonly decoder?: { push(id: number): string; flush(): string };
  private readonly stops?: StopStringMatcher;

  constructor(
    readonly prompt: readonly number[],
    /** @internal */ readonly s: ResolvedParams,
    rngStream: number,
    tokenizer: StreamingTokenizer | undefined,
    readonly onEvent: (e: SequenceEvent) => void,
  ) {
    this.history = [...prompt];
    this.processors = logitsProcessors(s);
    this.sampler = makeSampler(s.temperature, rowRng(s.seed, rngStream));
    this.decoder = tokenizer?.decodeStream({ skipSpecialTokens: s.skipSpecialTokens });
    this.stops = s.stopStrings.length > 0 ? new StopStringMatcher(s.stopStrings) : undefined;
  }

  get done(): boolean {
    return this.finishReason !== null;
  }

  result(): SequenceResult {
    if (!this.finishReason) throw new Error('Sequence.result: the sequence has not finished');
    return { ids: this.ids, logprobs: this.logprobs, ...(this.decoder ? { text: this.text } : {}), finishReason: this.finishReason, promptTokens: this.prompt.length };
  }

  /** Chooses the next token from this sequence's logits row (edited in place) and reports it. */
  /** @internal */ choose(row: Float32Array): void {
    const lse = this.s.logprobs ? logSumExp(row) : NaN;
    const raw = this.s.logprobs && this.processors.length > 0 ? Float32Array.from(row) : row; // the processors edit row
    for (const p of this.processors) p(row, this.history, this.prompt.length);
    const id = this.sampler(row);
    const lp = this.s.logprobs ? raw[id] - lse : undefined;
    const top = this.s.logprobs && this.s.topLogprobs > 0 ? topTokens(raw, this.s.topLogprobs, lse) : undefined;
    this.sampledTokens++;
    if (this.s.stopTokens.has(id)) return this.finish('stop');
    this.ids.push(id);
    if (lp !== undefined) this.logprobs.push(lp);
    this.history.push(id);
    this.next = id;
    let text = '';
    let stopped = false;
    if (this.decoder) {
      text = this.decoder.push(id);
      if (this.stops) ({ text, stopped } = this.stops.push(text));
      this.text += text;
    }
    this.onEvent({ id, text, ...(lp !== undefined ? { logprob: lp } : {}), ...(top ? { topLogprobs: top } : {}) });
    if (stopped) this.finish('stop', true);
    else if (this.ids.length >= this.s.budget(this.prompt.length)) this.finish('length');
  }

  // After a stop token or the length limit, text still held back (a partial UTF-8 character, a
  // tail that might have become a stop string) is released; after a stop string it is dropped.
  /** @internal */ finish(reason: FinishReason, atStopString = false): void {
    if (this.finishReason) return;
    this.finishReason = reason;
    let tail = '';
    if (this.decoder && !atStopString) {
      tail = this.decoder.flush();
      if (this.stops) {
        const r = this.stops.push(tail);
        tail = r.stopped ? r.text : r.text + this.stops.flush();
      }
      this.text += tail;
    }
    this.onEvent({ id: null, text: tail, finishReason: reason });
  }
}

/** A prompt (and its n samples) admitted to the batch, prefilled into `cache` up to `done`. */
interface PrefillGroup {
  prompt: readonly number[];
  seqs: Sequence[];
  cache: SequenceCache;
  done: number;
}

/** Sequences decoded together; add() and cancel() between steps, step() advances them all by one token. */
export class ContinuousBatch {
  /** Sequences the last step decoded together (its batch size). */
  lastStepSize = 0;
  /** Tokens the last step fed to the model (prompt tokens prefilled + one per running sequence). */
  lastStepTokens = 0;
  private readonly pending: { prompt: readonly number[]; seqs: Sequence[] }[] = [];
  /** Admitted groups whose prompt is in the cache up to `done` (chunked prefill in progress). */
  private readonly prefilling: PrefillGroup[] = [];
  private readonly running: Sequence[] = [];
  private readonly maxPositions: number;
  private readonly vocabSize: number;
  private readonly eos: number[];

  constructor(
    readonly model: CausalLM,
    readonly opts: {
      tokenizer?: StreamingTokenizer;
      /** Sequences decoded per step at most (default 64). */
      maxBatch?: number;
      /**
       * Prompt tokens prefilled per step at most (default: no limit). Prompts that fit the
       * budget are prefilled whole (several per step while they fit); a prompt longer than the
       * whole budget is prefilled in chunks of the budget over several steps. A server sets it so
       * that a burst of prompts, or one long prompt, does not hold up the sequences already
       * streaming for more than about this many tokens' worth of compute per step.
       */
      maxPrefillTokens?: number;
    } = {},
  ) {
    this.maxPositions = model.config.max_position_embeddings;
    this.vocabSize = model.config.vocab_size;
    this.eos = typeof model.config.eos_token_id === 'number' ? [model.config.eos_token_id] : [];
  }

  get maxBatch(): number {
    return this.opts.maxBatch ?? 64;
  }

  /** Sequences holding a batch slot: decoding, or with their prompt's prefill under way. */
  get runningCount(): number {
    return this.running.length + this.prefillingCount;
  }

  /** Sequences whose prompt is being prefilled in chunks (they hold a slot, have no token yet). */
  get prefillingCount(): number {
    return this.prefilling.reduce((n, g) => n + g.seqs.length, 0);
  }

  /** Sequences waiting for a slot. */
  get pendingCount(): number {
    return this.pending.reduce((n, g) => n + g.seqs.length, 0);
  }

  get idle(): boolean {
    return this.running.length === 0 && this.pending.length === 0 && this.prefilling.length === 0;
  }

  /**
   * Queues `n` samples of one prompt (default 1); they join at the next step that has room, share
   * one prefill, and sample from rowRng(seed, firstStream + i). Throws on a bad prompt or setting.
   */
  add(prompt: readonly number[], params: SamplingParams, onEvent: (seq: Sequence, e: SequenceEvent) => void = () => {}, opts: { n?: number; firstStream?: number } = {}): Sequence[] {
    checkPrompt(prompt, this.vocabSize, this.maxPositions);
    const s = resolveParams(params, this.eos, this.maxPositions, !!this.opts.tokenizer);
    const n = opts.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
    if (n > this.maxBatch) throw new Error(`n = ${n} samples exceed the batch limit of ${this.maxBatch} sequences`);
    const seqs: Sequence[] = [];
    for (let i = 0; i < n; i++) {
      const seq: Sequence = new Sequence(prompt, s, (opts.firstStream ?? 0) + i, this.opts.tokenizer, (e) => onEvent(seq, e));
      seqs.push(seq);
    }
    this.pending.push({ prompt, seqs });
    return seqs;
  }

  /** Ends a sequence now (a client went away): frees its cache; it reports nothing more. */
  cancel(seq: Sequence): void {
    seq.cancelled = true;
    const i = this.running.indexOf(seq);
    if (i >= 0) this.release(i);
    for (const g of [...this.pending, ...this.prefilling]) g.seqs = g.seqs.filter((x) => x !== seq);
    this.pending.splice(0, this.pending.length, ...this.pending.filter((g) => g.seqs.length > 0));
    for (let i = this.prefilling.length - 1; i >= 0; i--) {
      if (this.prefilling[i].seqs.length > 0) continue;
      this.prefilling[i].cache.dispose();
      this.prefilling.splice(i, 1);
    }
  }

  /**
   * One step, one forward: the waiting prompts that fit are prefilled (and choose their first
   * token) in the same ragged batch in which every running sequence gets its next token.
   * Returns false when idle.
   */
  step(): boolean {
    const chunks = this.schedule();
    const live = this.running.filter((s) => !s.done);
    const segments = [...chunks.map((c) => ({ ids: c.group.prompt.slice(c.from, c.to), cache: c.group.cache })), ...live.map((s) => ({ ids: [s.next], cache: s.cache! }))];
    this.lastStepSize = live.length + chunks.filter((c) => c.to === c.group.prompt.length).reduce((n, c) => n + c.group.seqs.length, 0);
    this.lastStepTokens = segments.reduce((n, g) => n + g.ids.length, 0);
    if (segments.length > 0) {
      let logits: Float32Array;
      try {
        logits = chunks.length === 0 && live.length === 1 ? this.decodeAlone(live[0]) : this.model.forwardRagged(segments);
      } catch (e) {
        for (const g of this.prefilling) g.cache.dispose();
        this.prefilling.length = 0;
        throw e;
      }
      const V = this.vocabSize;
      const row = (i: number) => logits.subarray(i * V, (i + 1) * V);
      chunks.forEach((c, i) => {
        c.group.done = c.to;
        if (c.to < c.group.prompt.length) return; // more of the prompt next step; these logits are not needed
        this.prefilling.splice(this.prefilling.indexOf(c.group), 1);
        // n samples of one prompt: the prefilled cache is copied for the others
        const g = c.group;
        g.seqs.forEach((s, j) => {
          s.cache = j === 0 ? g.cache : g.cache.fork();
          this.running.push(s);
        });
        for (const s of g.seqs) if (!s.cancelled) s.choose(Float32Array.from(row(i))); // choose edits its row: a copy each
      });
      live.forEach((s, b) => {
        if (!s.cancelled) s.choose(row(chunks.length + b));
      });
    }
    this.sweep();
    return !this.idle;
  }

  // A lone running sequence's next token: through the model's fused decode step where it has one
  // (made once per sequence, on its first lone step), else the ragged forward of one token.
  private decodeAlone(s: Sequence): Float32Array {
    if (s.fused === undefined) s.fused = this.model.fusedDecoder?.(s.cache!) ?? null;
    return s.fused ? s.fused.step(s.next) : this.model.forwardRagged([{ ids: [s.next], cache: s.cache! }]);
  }

  /** Cancels everything and frees every cache. */
  dispose(): void {
    for (const s of [...this.running]) this.cancel(s);
    for (const g of this.prefilling) g.cache.dispose();
    this.prefilling.length = 0;
    this.pending.length = 0;
  }

  // The prompt chunks of this step, within the prefill budget: first the prompts already being
  // prefilled (oldest first), then waiting groups that have batch slots, each with a fresh cache.
  // A prompt that fits the budget left is taken whole; one longer than the whole budget starts
  // with what is left (and goes on next step); one that would fit a step of its own waits, so
  // prompts are only split when they must be. A group with no room to generate ends at once.
  private schedule(): { group: PrefillGroup; from: number; to: number }[] {
    const out: { group: PrefillGroup; from: number; to: number }[] = [];
    const limit = this.opts.maxPrefillTokens ?? Infinity;
    let left = limit;
    for (const g of this.prefilling) {
      if (left <= 0) break;
      const to = Math.min(g.prompt.length, g.done + left);
      out.push({ group: g, from: g.done, to });
      left -= to - g.done;
    }
    let slots = this.maxBatch - this.runningCount;
    while (this.pending.length > 0 && this.pending[0].seqs.length <= slots && left > 0) {
      const { prompt, seqs } = this.pending[0];
      if (prompt.length > left && prompt.length <= limit) break; // whole, at a later step
      this.pending.shift();
      const budget = seqs[0].s.budget(prompt.length);
      if (budget <= 0) {
        for (const s of seqs) s.finish('length');
        continue;
      }
      const group: PrefillGroup = { prompt, seqs, cache: this.model.newCache(1, Math.min(this.maxPositions, prompt.length + budget)), done: 0 };
      this.prefilling.push(group);
      const to = Math.min(prompt.length, left);
      out.push({ group, from: 0, to });
      left -= to;
      slots -= seqs.length;
    }
    return out;
  }

  private sweep(): void {
    for (let i = this.running.length - 1; i >= 0; i--) if (this.running[i].done || this.running[i].cancelled) this.release(i);
  }

  private release(i: number): void {
    const [s] = this.running.splice(i, 1);
    s.fused?.dispose();
    s.fused = null;
    s.cache?.dispose();
    s.cache = null;
  }
}

export interface GenerateBatchOptions extends SamplingParams {
  /** Samples per prompt (default 1), as HF's num_return_sequences. */
  numReturnSequences?: number;
  tokenizer?: StreamingTokenizer;
  /** Sequences decoded per step at most (default 64); the rest wait for a slot. */
  maxBatch?: number;
}

export interface BatchResult extends SequenceResult {
  /** Index of the prompt. */
  prompt: number;
  /** Index of the sample of that prompt. */
  sample: number;
}

/**
 * Generates numReturnSequences samples for each prompt (prompts of any lengths), all decoded in
 * ragged batches. Results are prompt-major: result i*n + j is sample j of prompt i. With a seed,
 * result k samples from rowRng(seed, k), whatever the batch limit.
 */
export function generateBatch(model: CausalLM, prompts: readonly (readonly number[])[], opts: GenerateBatchOptions): BatchResult[] {
  const n = opts.numReturnSequences ?? 1;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const batch = new ContinuousBatch(model, { tokenizer: opts.tokenizer, maxBatch: Math.max(opts.maxBatch ?? 64, n) });
  try {
    const seqs = prompts.flatMap((p, i) => batch.add(p, { ...opts, seed }, undefined, { n, firstStream: i * n }));
    while (batch.step());
    return seqs.map((s, k) => ({ ...s.result(), prompt: Math.floor(k / n), sample: k % n }));
  } finally {
    batch.dispose();
  }
}

// ---- internals ----

interface ResolvedParams {
  temperature: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  frequencyPenalty: number;
  presencePenalty: number;
  stopTokens: Set<number>;
  stopStrings: string[];
  seed: number;
  skipSpecialTokens: boolean;
  logprobs: boolean;
  topLogprobs: number;
  /** New tokens allowed after a prompt of this length (the context limit included). */
  budget(promptLen: number): number;
}

function resolveParams(p: SamplingParams, eos: number[], maxPositions: number, haveTokenizer: boolean): ResolvedParams {
  if (!Number.isInteger(p.maxNewTokens) || p.maxNewTokens < 0) throw new Error(`maxNewTokens must be a non-negative integer, got ${p.maxNewTokens}`);
  const temperature = p.temperature ?? 1;
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  const stopStrings = p.stopStrings ?? [];
  if (stopStrings.length > 0 && !haveTokenizer) throw new Error('stop strings need a tokenizer');
  for (const [name, v] of [['frequencyPenalty', p.frequencyPenalty], ['presencePenalty', p.presencePenalty]] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new Error(`${name} must be a finite number, got ${v}`);
  }
  const topLogprobs = p.topLogprobs ?? 0;
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0) throw new Error(`topLogprobs must be a non-negative integer, got ${p.topLogprobs}`);
  return {
    temperature,
    topK: p.topK,
    topP: p.topP,
    repetitionPenalty: p.repetitionPenalty,
    frequencyPenalty: p.frequencyPenalty ?? 0,
    presencePenalty: p.presencePenalty ?? 0,
    stopTokens: new Set(p.stopTokenIds ?? eos),
    stopStrings,
    seed: p.seed ?? Math.floor(Math.random() * 2 ** 32),
    skipSpecialTokens: p.skipSpecialTokens ?? true,
    logprobs: p.logprobs ?? true,
    topLogprobs,
    // The last fed token of the n-th new token sits at position promptLen + n - 2 < maxPositions.
    budget: (promptLen) => Math.min(p.maxNewTokens, maxPositions - promptLen + 1),
  };
}

function checkPrompt(ids: readonly number[], vocab: number, maxPositions: number): void {
  if (!Array.isArray(ids) || ids.length === 0) throw new Error('the prompt is empty (give at least one token, e.g. BOS)');
  if (ids.length > maxPositions) throw new Error(`the prompt has ${ids.length} tokens, more than the model's ${maxPositions} positions (max_position_embeddings)`);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`prompt token ${i} is ${id}, outside the vocabulary [0, ${vocab})`);
  }
}

// log sum_i exp(row[i]), in float64.
function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let total = 0;
  for (let i = 0; i < row.length; i++) total += Math.exp(row[i] - max);
  return max + Math.log(total);
}

// The k largest entries of row as log-probabilities (row[i] - lse), largest first; ties go to the
// smaller id. One pass with a sorted list of k: k is at most 20, the vocabulary thousands.
function topTokens(row: Float32Array, k: number, lse: number): TokenLogprob[] {
  k = Math.min(k, row.length);
  const ids: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (ids.length === k && !(v > row[ids[k - 1]])) continue;
    let at = ids.length === k ? k - 1 : ids.length;
    while (at > 0 && v > row[ids[at - 1]]) at--;
    if (ids.length === k) ids.pop();
    ids.splice(at, 0, i);
  }
  return ids.map((id) => ({ id, logprob: row[id] - lse }));
}
