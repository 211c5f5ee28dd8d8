// The small pieces of token selection, transformers.js style: logits processors and warpers that
// edit one row of logits in place, a greedy and a multinomial sampler, and stopping criteria
// (stop tokens, stop strings that may straddle tokens). The engine (batch-generate.ts) strings
// them together for every caller: generate, chat, serve, RL rollouts and eval.
//
// Everything here works on one host row `logits: (V,)` Float32Array, because after the model's
// forward we read exactly one row per sequence per step; masking a token means setting it to
// -Infinity, as HF does.
import { Rng } from '../core/random.js';

/**
 * Edits one row of logits in place. `ids` = every token of the sequence so far (prompt +
 * generated), of which the first `promptLength` (default 0) are the prompt.
 */
export type LogitsProcessor = (logits: Float32Array, ids: readonly number[], promptLength?: number) => void;

/**
 * OpenAI's frequency and presence penalties over the tokens generated so far (not the prompt):
 * logit[t] -= count(t) * frequency + (count(t) > 0) * presence.
 */
export function frequencyPresencePenalty(frequency: number, presence: number): LogitsProcessor {
  for (const [name, v] of [['frequency', frequency], ['presence', presence]] as const) {
    if (!Number.isFinite(v)) throw new Error(`${name} penalty must be a finite number, got ${v}`);
  }
  return (logits, ids, promptLength = 0) => {
    const counts = new Map<number, number>();
    for (let i = promptLength; i < ids.length; i++) counts.set(ids[i], (counts.get(ids[i]) ?? 0) + 1);
    for (const [id, n] of counts) if (id >= 0 && id < logits.length) logits[id] -= n * frequency + presence;
  };
}

/**
 * Repetition penalty over the distinct tokens already in the sequence, sign-aware as in HF's
 * RepetitionPenaltyLogitsProcessor and MiniMind HEAD (dddedc6): a negative logit is multiplied by
 * the penalty, a non-negative one divided, so penalty > 1 always makes a seen token less likely.
 */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  if (!(penalty > 0)) throw new Error(`repetition penalty must be > 0, got ${penalty}`);
  return (logits, ids) => {
    if (penalty === 1) return;
    const seen = new Set<number>();
    for (const id of ids) {
      if (seen.has(id) || id < 0 || id >= logits.length) continue;
      seen.add(id);
      const x = logits[id];
      logits[id] = x < 0 ? x * penalty : x / penalty;
    }
  };
}

/** Divides logits by the temperature (T > 0; T = 0 means greedy and is handled by the sampler choice). */
export function temperatureWarper(temperature: number): LogitsProcessor {
  if (!(temperature > 0)) throw new Error(`temperature warper needs T > 0, got ${temperature}`);
  return (logits) => {
    if (temperature === 1) return;
    const inv = 1 / temperature;
    for (let i = 0; i < logits.length; i++) logits[i] *= inv;
  };
}

/** Keeps the k largest logits (ties with the k-th value are kept, as in HF's TopKLogitsWarper). */
export function topKWarper(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k < 0) throw new Error(`top-k must be a non-negative integer, got ${k}`);
  return (logits) => {
    if (k === 0 || k >= logits.length) return;
    const kth = kthLargest(logits, k);
    for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
  };
}

/**
 * Nucleus sampling: keeps the most likely tokens whose probabilities sum to at least p. Token i
 * (in descending order) is removed when the mass of the tokens ranked above it is already >= p —
 * HF's TopPLogitsWarper rule — so the most likely token is always kept.
 */
export function topPWarper(p: number): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new Error(`top-p must be in (0, 1], got ${p}`);
  return (logits) => {
    if (p === 1) return;
    const { probs, order } = sortedProbs(logits);
    let above = 0;
    let r = 0;
    for (; r < order.length; r++) {
      if (r > 0 && above >= p) break;
      above += probs[order[r]];
    }
    for (; r < order.length; r++) logits[order[r]] = -Infinity;
  };
}

/** How a row of logits is edited before a token is chosen (1 / 0 / undefined = off). */
export interface ProcessorSettings {
  /** 0 = greedy: the warpers (temperature, top-k, top-p) are left out, as they never change the argmax. */
  temperature: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
}

/**
 * The processors for these settings, penalties first (OpenAI's, then HF's repetition penalty, as
 * vLLM applies them), then HF's warpers in order: temperature, top-k, top-p.
 */
export function logitsProcessors(opts: ProcessorSettings): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (opts.frequencyPenalty || opts.presencePenalty) list.push(frequencyPresencePenalty(opts.frequencyPenalty ?? 0, opts.presencePenalty ?? 0));
  if (opts.repetitionPenalty !== undefined && opts.repetitionPenalty !== 1) list.push(repetitionPenalty(opts.repetitionPenalty));
  if (opts.temperature > 0) {
    // Greedy ignores the warpers: they never change the argmax.
    if (opts.temperature !== 1) list.push(temperatureWarper(opts.temperature));
    if (opts.topK) list.push(topKWarper(opts.topK));
    if (opts.topP !== undefined && opts.topP < 1) list.push(topPWarper(opts.topP));
  }
  return list;
}

// ---- samplers ----

/** Index of the largest logit (the first one on ties, as torch.argmax). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestVal = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestVal) {
      bestVal = logits[i];
      best = i;
    }
  }
  return best;
}

/** Draws one token from softmax(logits) (masked -Infinity entries have probability 0). */
export function sampleLogits(logits: Float32Array, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity) throw new Error('sampling: every token is masked');
  // Sum in float64 so the draw does not depend on rounding in a float32 accumulator.
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i] - max);
  const u = rng.next() * total;
  let acc = 0;
  let last = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp(logits[i] - max);
    if (w === 0) continue;
    acc += w;
    last = i;
    if (u < acc) return i;
  }
  return last; // u landed in the rounding gap at the very end
}

/** A token chooser for these settings: argmax when temperature is 0, a seeded draw otherwise. */
export type Sampler = (logits: Float32Array) => number;
export function makeSampler(temperature: number, rng: Rng): Sampler {
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  return temperature === 0 ? argmax : (logits) => sampleLogits(logits, rng);
}

/**
 * A reproducible per-row generator: row r of a batch draws from its own stream, so a row's sample
 * does not depend on which other prompts were batched with it. (mulberry32's state is a counter, so
 * seeds are mixed rather than offset, or rows would share shifted streams.)
 */
export function rowRng(seed: number, row: number): Rng {
  let h = (Math.imul(seed >>> 0, 0x85ebca6b) ^ Math.imul(row + 1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return new Rng(h >>> 0);
}

// ---- stopping criteria ----

/**
 * Finds stop strings in streamed text. push() returns the text that is safe to show now: up to a
 * stop string when one completes (stopped = true; the stop string and anything after it are
 * dropped), otherwise everything except a tail that could still grow into a stop string.
 */
export class StopStringMatcher {
  private held = '';
  private done = false;

  constructor(readonly stops: readonly string[]) {
    for (const s of stops) if (s === '') throw new Error('stop strings must not be empty');
  }

  push(piece: string): { text: string; stopped: boolean } {
    if (this.done) return { text: '', stopped: true };
    const buf = this.held + piece;
    let cut = -1;
    for (const s of this.stops) {
      const at = buf.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.done = true;
      this.held = '';
      return { text: buf.slice(0, cut), stopped: true };
    }
    const keep = this.partialTail(buf);
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep), stopped: false };
  }

  /** The held tail, when generation ends for another reason (it never became a stop string). */
  flush(): string {
    const t = this.held;
    this.held = '';
    return t;
  }

  // Length of the longest suffix of buf that is a proper prefix of some stop string.
  private partialTail(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

// ---- helpers ----

// The k-th largest value of a row (k >= 1), by sorting a copy: V is 6400, so this costs well
// under a millisecond and is only paid when top-k sampling is on.
function kthLargest(logits: Float32Array, k: number): number {
  const copy = Float32Array.from(logits);
  copy.sort();
  return copy[copy.length - k];
}

// softmax(logits) and the indices of the non-zero probabilities in descending order.
function sortedProbs(logits: Float32Array): { probs: Float64Array; order: number[] } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const probs = new Float64Array(logits.length);
  let total = 0;
  const order: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp(logits[i] - max);
    probs[i] = w;
    total += w;
    if (w > 0) order.push(i);
  }
  for (const i of order) probs[i] /= total;
  order.sort((a, b) => probs[b] - probs[a] || a - b);
  return { probs, order };
}
